//go:build freebsd || netbsd

package sockio

import (
	"syscall"
	"unsafe"
)

// writev3 is writev(2) of up to three buffers (empty ones are skipped) on
// a non-blocking fd: how a frame is sent from a caller's slice, after what
// is already queued and the frame's header, without copying it. It returns
// the bytes written in all.
func writev3(fd int, a, b, c []byte) (int, error) {
	iov, n, _ := iovecs(a, b, c)
	if n == 0 {
		return 0, nil
	}
	w, _, e := syscall.Syscall(syscall.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(n))
	return result(w, e)
}
