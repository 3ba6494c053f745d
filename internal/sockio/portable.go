//go:build unix

package sockio

import (
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"
)

// The portable way to get a non-blocking, close-on-exec descriptor, for
// systems whose socket(2) and accept(2) cannot make one in the same call:
// the call and FD_CLOEXEC under syscall.ForkLock (which os/exec takes for
// writing around its fork), then O_NONBLOCK. Darwin runs these; they build
// on Linux too, where their tests run them.

// socketPortable is socket(2) of the given family and type.
func socketPortable(family, typ int) (int, error) {
	syscall.ForkLock.RLock()
	fd, err := unix.Socket(family, typ, 0)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, err
	}
	return nonblocking(fd)
}

// acceptPortable is accept(2) on the listening socket lfd. It returns the
// new socket and the peer's address.
func acceptPortable(lfd int) (int, netip.AddrPort, error) {
	syscall.ForkLock.RLock()
	fd, sa, err := unix.Accept(lfd)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, netip.AddrPort{}, err
	}
	if fd, err = nonblocking(fd); err != nil {
		return -1, netip.AddrPort{}, err
	}
	return fd, addrPort(sa), nil
}

// socketpairPortable is socketpair(2) of unix stream sockets.
func socketpairPortable() ([2]int, error) {
	syscall.ForkLock.RLock()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err == nil {
		unix.CloseOnExec(fds[0])
		unix.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return [2]int{-1, -1}, err
	}
	return bothNonblocking(fds)
}

// nonblocking sets O_NONBLOCK on fd, or closes it.
func nonblocking(fd int) (int, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// bothNonblocking sets O_NONBLOCK on both descriptors, or closes both.
func bothNonblocking(fds [2]int) ([2]int, error) {
	for _, fd := range fds {
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(fds[0])
			unix.Close(fds[1])
			return [2]int{-1, -1}, err
		}
	}
	return fds, nil
}
