//go:build lwsfault && unix

package sockio

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A wrapped conn moves every byte in order through short reads and split
// writes (and yields and retries for EAGAIN and EINTR), and counts them.
func TestWrapConnShortCallsKeepTheStream(t *testing.T) {
	a, b := tcpPair(t)
	w := WrapConn(a)
	if _, ok := w.(*faultConn); !ok {
		t.Fatalf("WrapConn of a TCP conn returned a %T", w)
	}
	if ConnFD(w) < 0 || ConnFD(w) != ConnFD(a) {
		t.Fatalf("ConnFD: %d through the wrapper, %d without", ConnFD(w), ConnFD(a))
	}
	faults(t, Faults{Seed: 7, ShortRead: 0.7, ShortWrite: 0.7, EAGAIN: 0.2, EINTR: 0.2})
	before := InjectedFaults()
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(rand.Uint32())
	}
	// Out through the wrapper, in through the plain peer...
	go func() { w.Write(data) }()
	got := make([]byte, len(data))
	b.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadFull(b, got); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("written through the wrapper: %v, equal %v", err, bytes.Equal(got, data))
	}
	// ...and back in through the wrapper, read in calls of at most 64 KiB.
	go func() { b.Write(data) }()
	w.SetReadDeadline(time.Now().Add(30 * time.Second))
	got = got[:0]
	buf := make([]byte, 64<<10)
	for len(got) < len(data) {
		n, err := w.Read(buf)
		if err != nil {
			t.Fatalf("read through the wrapper after %d bytes: %v", len(got), err)
		}
		got = append(got, buf[:n]...)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("read through the wrapper: the bytes differ")
	}
	c := InjectedFaults().Sub(before)
	if c.ShortReads == 0 || c.ShortWrites == 0 || c.EAGAINs == 0 || c.EINTRs == 0 {
		t.Fatalf("faults injected: %v", c)
	}
}

// spyConn records the size of every Read and Write a wrapper passes to
// the TCP conn under it.
type spyConn struct {
	*net.TCPConn
	reads, writes []spyCall
}

// spyCall is one call: what it was given and what it moved.
type spyCall struct{ asked, moved int }

func (c *spyConn) Read(p []byte) (int, error) {
	n, err := c.TCPConn.Read(p)
	c.reads = append(c.reads, spyCall{len(p), n})
	return n, err
}

func (c *spyConn) Write(p []byte) (int, error) {
	n, err := c.TCPConn.Write(p)
	c.writes = append(c.writes, spyCall{len(p), n})
	return n, err
}

// With short reads and writes certain, every call the wrapper passes on
// is cut: a read asks for less than the caller's buffer, at least a byte;
// a write goes out in pieces, each less than what is left (but the last
// byte), and Write returns only when all are written. The bytes arrive
// whole and in order, and each cut call is counted.
func TestWrapConnCutsEveryCall(t *testing.T) {
	a, b := tcpPair(t)
	spy := &spyConn{TCPConn: a.(*net.TCPConn)}
	w := WrapConn(spy)
	faults(t, Faults{Seed: 3, ShortRead: 1, ShortWrite: 1})
	before := InjectedFaults()
	data := make([]byte, 1000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if n, err := w.Write(data); n != len(data) || err != nil {
		t.Fatalf("write: %d, %v", n, err)
	}
	left := len(data)
	for _, c := range spy.writes {
		if c.asked < 1 || (left > 1 && c.asked >= left) || c.moved != c.asked {
			t.Fatalf("with %d bytes left to write, a piece of %d (%d written): want 1 to %d; pieces %v", left, c.asked, c.moved, left-1, spy.writes)
		}
		left -= c.moved
	}
	if left != 0 || len(spy.writes) < 2 {
		t.Fatalf("pieces %v leave %d bytes", spy.writes, left)
	}
	got := make([]byte, len(data))
	b.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadFull(b, got); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the peer read %v, bytes equal %v", err, bytes.Equal(got, data))
	}
	if _, err := b.Write(data); err != nil {
		t.Fatal(err)
	}
	w.SetReadDeadline(time.Now().Add(30 * time.Second))
	got = got[:0]
	buf := make([]byte, len(data))
	for len(got) < len(data) {
		n, err := w.Read(buf)
		if err != nil {
			t.Fatalf("read after %d bytes: %v", len(got), err)
		}
		got = append(got, buf[:n]...)
	}
	for _, c := range spy.reads {
		if c.asked < 1 || c.asked >= len(buf) {
			t.Fatalf("a read of a %d-byte buffer asked for %d: want 1 to %d; reads %v", len(buf), c.asked, len(buf)-1, spy.reads)
		}
	}
	if !bytes.Equal(got, data) {
		t.Fatal("read through the wrapper: the bytes differ")
	}
	c := InjectedFaults().Sub(before)
	if c.ShortReads != uint64(len(spy.reads)) || c.ShortWrites != uint64(len(spy.writes)-1) {
		t.Fatalf("counted %v for %d reads and %d pieces written", c, len(spy.reads), len(spy.writes))
	}
}

// A reset armed on the descriptor under a wrapped conn trips after the
// given bytes: the write passing the mark fails with EPIPE having moved
// exactly up to it, a read then fails with ECONNRESET, and closing sends
// the peer a reset after those bytes.
func TestWrapConnResetAfter(t *testing.T) {
	a, b := tcpPair(t)
	w := WrapConn(a)
	tripped := 0
	if err := ResetAfter(ConnFD(w), 1000, func() { tripped++ }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { SetFaults(Faults{}) })
	n, err := w.Write(make([]byte, 5000))
	if n != 1000 || !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("write across the mark: %d, %v; want 1000, EPIPE", n, err)
	}
	checkOpError(t, err, "write", a)
	_, err = w.Read(make([]byte, 10))
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read after the reset: %v, want ECONNRESET", err)
	}
	checkOpError(t, err, "read", a)
	if tripped != 1 {
		t.Fatalf("tripped %d times", tripped)
	}
	w.Close()
	b.SetReadDeadline(time.Now().Add(30 * time.Second))
	got, err := io.ReadAll(b)
	if len(got) != 1000 || !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("the peer read %d bytes, then %v; want 1000, then ECONNRESET", len(got), err)
	}
}

// checkOpError fails unless err is the *net.OpError of c's op, as a
// net.Conn's own failed Read or Write returns it.
func checkOpError(t *testing.T, err error, op string, c net.Conn) {
	t.Helper()
	var oe *net.OpError
	var se *os.SyscallError
	if !errors.As(err, &oe) || oe.Op != op || oe.Source.String() != c.LocalAddr().String() || oe.Addr.String() != c.RemoteAddr().String() ||
		!errors.As(err, &se) || se.Syscall != op {
		t.Fatalf("%s error %#v: want the *net.OpError of a %s of %v->%v", op, err, op, c.LocalAddr(), c.RemoteAddr())
	}
}

// A wrapped conn that was closed draws no fault, even when its descriptor
// number now holds another socket with an armed reset: its calls fail as
// a closed conn's, and the other socket's reset trips on that socket's
// own call.
func TestWrapConnClosedDrawsNothing(t *testing.T) {
	a, _ := tcpPair(t)
	w := WrapConn(a)
	fd := ConnFD(w)
	w.Close()
	other, _ := socketPair(t)
	if err := unix.Dup2(other, fd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	tripped := 0
	if err := ResetAfter(fd, 0, func() { tripped++ }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { SetFaults(Faults{}) })
	before := InjectedFaults()
	if _, err := w.Read(make([]byte, 10)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read of the closed conn: %v, want net.ErrClosed", err)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write to the closed conn: %v, want net.ErrClosed", err)
	}
	if c := InjectedFaults().Sub(before); tripped != 0 || c != (FaultCounts{}) {
		t.Fatalf("the closed conn's calls tripped the other socket's reset %d times, drew %v", tripped, c)
	}
	if _, err := Write(fd, []byte("x")); !errors.Is(err, unix.EPIPE) || tripped != 1 {
		t.Fatalf("write to the socket with the reset: %v, tripped %d times; want EPIPE, once", err, tripped)
	}
}

// WrapConn leaves a conn without a descriptor of its own as it is.
func TestWrapConnLeavesPipes(t *testing.T) {
	p, q := net.Pipe()
	defer p.Close()
	defer q.Close()
	if WrapConn(p) != p || ConnFD(p) != -1 {
		t.Fatal("a net.Pipe conn was wrapped")
	}
}

// A wrapped conn is read and written by two goroutines at once (the
// portable backend's reader and writer): a reset armed on it is shared
// by both, and trips once (the race detector checks the sharing).
func TestWrapConnResetSharedByReaderAndWriter(t *testing.T) {
	a, b := tcpPair(t)
	w := WrapConn(a)
	faults(t, Faults{Seed: 3, ShortRead: 0.5, ShortWrite: 0.5}) // first: SetFaults forgets armed resets
	tripped := make(chan struct{}, 2)
	if err := ResetAfter(ConnFD(w), 200<<10, func() { tripped <- struct{}{} }); err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, b)
	go b.Write(make([]byte, 1<<20))
	done := make(chan error, 2)
	go func() {
		_, err := w.Write(make([]byte, 1<<20))
		done <- err
	}()
	go func() {
		_, err := io.Copy(io.Discard, w)
		done <- err
	}()
	for range 2 {
		select {
		case err := <-done:
			if !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("a call after the reset: %v, want EPIPE or ECONNRESET", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the reset never tripped")
		}
	}
	if len(tripped) != 1 {
		t.Fatalf("tripped %d times", len(tripped))
	}
}
