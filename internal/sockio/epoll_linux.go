package sockio

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// EpollWaitNow is epoll_wait(2) with a zero timeout, through the raw path:
// it never blocks. A loop under load finds events waiting, and polls this
// way before it falls back to a blocking unix.EpollWait (which must tell
// the runtime it may block).
func EpollWaitNow(epfd int, events []unix.EpollEvent) (int, error) {
	if len(events) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	return result(n, e)
}
