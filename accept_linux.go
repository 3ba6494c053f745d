package lws

import (
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// acceptRaw is accept4(2) without the garbage of unix.Accept4 (which
// allocates a Sockaddr per call): the peer address is read into rsa, a
// buffer the listener reuses, and returned as a value.
func acceptRaw(lfd int, rsa *unix.RawSockaddrAny) (int, netip.AddrPort, error) {
	*rsa = unix.RawSockaddrAny{}
	n := uint32(unix.SizeofSockaddrAny)
	fd, _, e := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(lfd), uintptr(unsafe.Pointer(rsa)),
		uintptr(unsafe.Pointer(&n)), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
	if e != 0 {
		return -1, netip.AddrPort{}, e
	}
	return int(fd), rawAddrPort(rsa), nil
}

// rawAddrPort decodes an IPv4 or IPv6 socket address; the port is in
// network byte order.
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
