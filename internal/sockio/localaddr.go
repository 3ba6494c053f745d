//go:build unix

package sockio

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// LocalAddr is the local address of the socket fd (getsockname(2)).
func LocalAddr(fd int) (netip.AddrPort, error) {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return addrPort(sa), nil
}
