//go:build darwin || freebsd || netbsd || openbsd

package sockio

import "net/netip"

// AddrBuf is where Accept reads the peer's address on Linux; here the
// address comes from unix.Accept and the buffer is unused.
type AddrBuf struct{}

// newSocket is socket(2), then made non-blocking and close-on-exec.
func newSocket(family, typ int) (int, error) { return socketPortable(family, typ) }

// Accept accepts a connection on the listening socket lfd: the new socket,
// non-blocking and close-on-exec, and the peer's address. It returns the
// errors of accept(2), unix.EAGAIN when no connection is waiting.
func Accept(lfd int, _ *AddrBuf) (int, netip.AddrPort, error) { return acceptPortable(lfd) }

func socketpair() ([2]int, error) { return socketpairPortable() }
