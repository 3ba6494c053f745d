package sockio

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// read is read(2) on a non-blocking fd. It returns what unix.Read returns:
// (0, nil) at the end of the stream, unix.EAGAIN when nothing is there.
func read(fd int, p []byte) (int, error) {
	if len(p) == 0 || len(p) > RawLimit {
		return unix.Read(fd, p)
	}
	n, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	return result(n, e)
}

// write is write(2) on a non-blocking fd, returning what unix.Write returns.
func write(fd int, p []byte) (int, error) {
	if len(p) == 0 || len(p) > RawLimit {
		return unix.Write(fd, p)
	}
	n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	return result(n, e)
}

// writev3 is writev(2) of up to three buffers (empty ones are skipped) on
// a non-blocking fd: how a frame is sent from a caller's slice, after what
// is already queued and the frame's header, without copying it. It returns
// the bytes written in all.
func writev3(fd int, a, b, c []byte) (int, error) {
	iov, n, total := iovecs(a, b, c)
	if n == 0 {
		return 0, nil
	}
	trap := syscall.RawSyscall
	if total > RawLimit {
		trap = syscall.Syscall
	}
	w, _, e := trap(syscall.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(n))
	return result(w, e)
}
