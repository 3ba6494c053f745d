package sockio

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// AddrBuf is where Accept reads the peer's address: a listener keeps one
// and reuses it, so that an accept allocates nothing.
type AddrBuf struct {
	rsa unix.RawSockaddrAny
}

// newSocket is socket(2), non-blocking and close-on-exec in one call.
func newSocket(family, typ int) (int, error) {
	return unix.Socket(family, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
}

// accept is Accept's one call.
//
// This is accept4(2) without the garbage of unix.Accept4 (which allocates
// a Sockaddr per call): the address is read into buf and returned as a
// value.
func accept(lfd int, buf *AddrBuf) (int, netip.AddrPort, error) {
	rsa := &buf.rsa
	*rsa = unix.RawSockaddrAny{}
	n := uint32(unix.SizeofSockaddrAny)
	fd, _, e := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(lfd), uintptr(unsafe.Pointer(rsa)),
		uintptr(unsafe.Pointer(&n)), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
	if e != 0 {
		return -1, netip.AddrPort{}, e
	}
	return int(fd), rawAddrPort(rsa), nil
}

// rawAddrPort decodes an IPv4 or IPv6 socket address as addrPort does;
// the port is in network byte order.
func rawAddrPort(rsa *unix.RawSockaddrAny) netip.AddrPort {
	switch rsa.Addr.Family {
	case unix.AF_INET:
		a := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), netPort(&a.Port))
	case unix.AF_INET6:
		a := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), netPort(&a.Port))
	}
	return netip.AddrPort{}
}

func netPort(p *uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(p))
	return uint16(b[0])<<8 | uint16(b[1])
}

func socketpair() ([2]int, error) {
	return unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
}
