//go:build linux || freebsd || netbsd

package sockio

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// iovecs returns the iovecs of the non-empty ones of a, b and c, in order,
// for a writev(2) made as a system call: n is how many, total their bytes.
// It returns the array rather than fill the caller's through a pointer: a
// store through a pointer would make a, b and c escape, and the frame
// header the caller keeps on its stack with them.
func iovecs(a, b, c []byte) (iov [3]unix.Iovec, n, total int) {
	for _, p := range [3][]byte{a, b, c} {
		if len(p) == 0 {
			continue
		}
		iov[n].Base = &p[0]
		iov[n].SetLen(len(p))
		n++
		total += len(p)
	}
	return iov, n, total
}

// result turns a raw call's outcome into unix's convention. Converting an
// Errno to an error does not allocate.
func result(n uintptr, e syscall.Errno) (int, error) {
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
