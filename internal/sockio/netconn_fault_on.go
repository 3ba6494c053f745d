//go:build lwsfault && unix

package sockio

import (
	"net"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// WrapConn returns c subject to the faults of SetFaults and ResetAfter, for
// the portable backend, whose sockets are net.Conns read and written by
// goroutines: when c has a socket descriptor of its own (a *net.TCPConn,
// say), every Read and Write draws the same faults as a call on a
// descriptor, in the terms a net.Conn has. A short read reads a random
// part of the buffer; a short write becomes a write of the bytes in
// several pieces (Write still writes all or fails); EAGAIN becomes a
// yield to the scheduler before the call (what a goroutine's wait on the
// network poller does), EINTR a call drawn again; a reset armed on the
// descriptor fails Read with ECONNRESET and Write with EPIPE (in the
// *net.OpError a net.Conn returns), and closing then sends the peer a TCP
// reset. The draws are made on the descriptor while c holds it open, so
// a call after Close never touches a later socket given the same number.
// Other conns are returned as they are.
func WrapConn(c net.Conn) net.Conn {
	raw := rawConn(c)
	if raw == nil {
		return c
	}
	return &faultConn{Conn: c, raw: raw}
}

// faultConn is a net.Conn with injected faults (WrapConn).
type faultConn struct {
	net.Conn
	raw syscall.RawConn // the socket under Conn
}

func (c *faultConn) unwrap() net.Conn { return c.Conn }

func (c *faultConn) Read(p []byte) (int, error) {
	if !inj.on.Load() {
		return c.Conn.Read(p)
	}
	k, r, err := c.decide(len(p), false)
	if err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p[:k])
	inj.moved(r, n)
	return n, err
}

func (c *faultConn) Write(p []byte) (int, error) {
	written := 0
	for written < len(p) || len(p) == 0 {
		if !inj.on.Load() {
			n, err := c.Conn.Write(p[written:])
			return written + n, err
		}
		k, r, err := c.decide(len(p)-written, true)
		if err != nil {
			return written, err
		}
		n, err := c.Conn.Write(p[written : written+k])
		inj.moved(r, n)
		written += n
		if err != nil || len(p) == 0 {
			return written, err
		}
	}
	return written, nil
}

// decide draws the fate of a call moving n bytes: how many to move, the
// armed reset to account them to, or the error of a tripped reset. Once
// the conn is closed it draws nothing: the call fails as it would.
func (c *faultConn) decide(n int, write bool) (int, *armedReset, error) {
	for {
		var (
			k       int
			r       *armedReset
			tripped hook
			err     error
		)
		if c.raw.Control(func(fd uintptr) { k, r, tripped, err = inj.decide(int(fd), n, write) }) != nil {
			return n, nil, nil
		}
		switch err {
		case nil:
			return k, r, nil
		case unix.EAGAIN:
			runtime.Gosched()
		case unix.EINTR:
		default:
			tripped.run()
			return 0, nil, c.opError(write, err)
		}
	}
}

// opError is err as c's Read or Write would return it.
func (c *faultConn) opError(write bool, err error) error {
	op := "read"
	if write {
		op = "write"
	}
	local := c.LocalAddr()
	return &net.OpError{Op: op, Net: local.Network(), Source: local, Addr: c.RemoteAddr(), Err: os.NewSyscallError(op, err)}
}

// rawConn is the socket under c (through WrapConn's wrapper), or nil.
func rawConn(c net.Conn) syscall.RawConn {
	if w, ok := c.(interface{ unwrap() net.Conn }); ok {
		c = w.unwrap()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}

// connFD is the socket descriptor under c, or -1.
func connFD(c net.Conn) int {
	raw := rawConn(c)
	if raw == nil {
		return -1
	}
	fd := -1
	if raw.Control(func(d uintptr) { fd = int(d) }) != nil {
		return -1
	}
	return fd
}

// ConnFD is the socket descriptor under c (through WrapConn's wrapper), or
// -1: a test arms ResetAfter on it.
func ConnFD(c net.Conn) int { return connFD(c) }

// CloseWrite half-closes the conn (WrapConn wraps conns with a socket,
// which can).
func (c *faultConn) CloseWrite() error {
	cw, ok := c.Conn.(interface{ CloseWrite() error })
	if !ok {
		return net.ErrClosed
	}
	return cw.CloseWrite()
}
