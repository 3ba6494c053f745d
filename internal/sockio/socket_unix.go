//go:build darwin || freebsd || netbsd || openbsd

package sockio

import "net/netip"

// AddrBuf is where Accept reads the peer's address on Linux; here the
// address comes from unix.Accept and the buffer is unused.
type AddrBuf struct{}

// newSocket is socket(2), then made non-blocking and close-on-exec.
func newSocket(family, typ int) (int, error) { return socketPortable(family, typ) }

// accept is Accept's one call.
func accept(lfd int, _ *AddrBuf) (int, netip.AddrPort, error) { return acceptPortable(lfd) }

func socketpair() ([2]int, error) { return socketpairPortable() }
