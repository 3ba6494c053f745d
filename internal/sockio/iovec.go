//go:build linux || freebsd || netbsd

package sockio

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// iovecs fills iov with the non-empty ones of a, b and c, in order, for a
// writev(2) made as a system call: n is how many it filled, total their
// bytes.
func iovecs(iov *[3]unix.Iovec, a, b, c []byte) (n, total int) {
	for _, p := range [3][]byte{a, b, c} {
		if len(p) == 0 {
			continue
		}
		iov[n].Base = &p[0]
		iov[n].SetLen(len(p))
		n++
		total += len(p)
	}
	return n, total
}

// result turns a raw call's outcome into unix's convention. Converting an
// Errno to an error does not allocate.
func result(n uintptr, e syscall.Errno) (int, error) {
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
