//go:build unix

package sockio

import (
	"errors"
	"net"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// ListenTCP opens a non-blocking listening TCP socket bound to ap with
// SO_REUSEADDR and returns it with the address it is bound to (the port
// the system chose for port 0). An IPv6 socket takes IPv4 connections too
// where the system allows; with dualStack it must, and where the system
// cannot (OpenBSD has no IPv4-mapped addresses) ListenTCP fails so that
// the caller can listen on IPv4 instead.
func ListenTCP(ap netip.AddrPort, backlog int, dualStack bool) (int, netip.AddrPort, error) {
	ip := ap.Addr()
	fd, err := newSocket(family(ip), unix.SOCK_STREAM)
	if err != nil {
		return -1, netip.AddrPort{}, err
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		unix.Close(fd)
		return -1, netip.AddrPort{}, err
	}
	if ip.Is6() {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0); err != nil && dualStack {
			unix.Close(fd)
			return -1, netip.AddrPort{}, err
		}
	}
	if err := unix.Bind(fd, sockaddr(ap)); err != nil {
		unix.Close(fd)
		return -1, netip.AddrPort{}, err
	}
	if err := unix.Listen(fd, backlog); err != nil {
		unix.Close(fd)
		return -1, netip.AddrPort{}, err
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return -1, netip.AddrPort{}, err
	}
	return fd, addrPort(sa), nil
}

// Connect opens a non-blocking TCP socket with TCP_NODELAY and starts
// connecting it to ap. The connect goes on after Connect returns: the
// socket turns writable when it is done, and ConnectError tells how it
// ended.
func Connect(ap netip.AddrPort) (int, error) {
	fd, err := newSocket(family(ap.Addr()), unix.SOCK_STREAM)
	if err != nil {
		return -1, err
	}
	_ = SetNoDelay(fd)
	switch err := unix.Connect(fd, sockaddr(ap)); err {
	case nil, unix.EINPROGRESS, unix.EINTR:
		// Interrupted by a signal, a non-blocking connect still goes
		// on (POSIX connect(2)); calling connect again would only
		// report EALREADY.
		return fd, nil
	default:
		unix.Close(fd)
		return -1, err
	}
}

// ConnectError is how the connect started by Connect ended: nil once
// connected, else the socket's pending error (SO_ERROR), such as
// ECONNREFUSED. Call it when the socket turns writable or reports an error.
func ConnectError(fd int) error {
	soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return err
	}
	if soerr != 0 {
		return unix.Errno(soerr)
	}
	return nil
}

// SetNoDelay turns off Nagle's algorithm on a TCP socket.
func SetNoDelay(fd int) error {
	return unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
}

// Accept accepts a connection on the listening socket lfd, retried when
// interrupted by a signal: the new socket, non-blocking and close-on-exec,
// and the peer's address (read into buf). It returns the other errors of
// accept(2): ErrAgain when no connection is waiting, ErrConnAborted, or
// one for which OutOfResources is true.
func Accept(lfd int, buf *AddrBuf) (int, netip.AddrPort, error) {
	for {
		fd, peer, err := accept(lfd, buf)
		if err != unix.EINTR {
			return fd, peer, err
		}
	}
}

// Close is close(2).
func Close(fd int) error { return unix.Close(fd) }

// ErrNoSocket is DupConn's error for a connection that has no socket of
// its own (TLS, wrappers).
var ErrNoSocket = errors.New("connection has no socket of its own")

// DupConn returns a non-blocking, close-on-exec duplicate of the socket
// under c (a *net.TCPConn or *net.UnixConn, or anything that is a
// syscall.Conn). The duplicate shares the socket's file status with c's
// descriptor, so c is to be closed, not used, after.
func DupConn(c net.Conn) (int, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return -1, ErrNoSocket
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	var dupErr error
	if err := raw.Control(func(s uintptr) {
		fd, dupErr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return -1, err
	}
	if dupErr != nil {
		return -1, dupErr
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// Socketpair returns a connected pair of unix stream sockets, both
// non-blocking and close-on-exec.
func Socketpair() ([2]int, error) { return socketpair() }

func family(ip netip.Addr) int {
	if ip.Is6() {
		return unix.AF_INET6
	}
	return unix.AF_INET
}

func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	if ap.Addr().Is6() {
		return &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
	}
	return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
}

// addrPort is the address of an IPv4 or IPv6 socket, an IPv4-mapped IPv6
// address turned into the IPv4 one; the zero AddrPort for other families.
func addrPort(sa unix.Sockaddr) netip.AddrPort {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(a.Port))
	}
	return netip.AddrPort{}
}
