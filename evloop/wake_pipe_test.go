//go:build unix

package evloop

import (
	"testing"

	"golang.org/x/sys/unix"
)

// readable polls fd once without waiting.
func readable(t *testing.T, fd int) bool {
	t.Helper()
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(pfd, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		return n > 0 && pfd[0].Revents&unix.POLLIN != 0
	}
}

// TestPipeWaker runs the wake-up of systems without eventfd (darwin, the
// BSDs) here too.
func TestPipeWaker(t *testing.T) {
	w, err := newPipeWaker()
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	for _, fd := range []int{w.rfd, w.wfd} {
		if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); err != nil || fl&unix.O_NONBLOCK == 0 {
			t.Fatalf("fd %d: flags %#x, %v: not non-blocking", fd, fl, err)
		}
		if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil || fl&unix.FD_CLOEXEC == 0 {
			t.Fatalf("fd %d: fd flags %#x, %v: not close-on-exec", fd, fl, err)
		}
	}
	if readable(t, w.rfd) {
		t.Fatal("new waker is readable")
	}
	w.signal()
	if !readable(t, w.rfd) {
		t.Fatal("not readable after signal")
	}
	w.drain()
	if readable(t, w.rfd) {
		t.Fatal("readable after drain")
	}
	// Far more signals than the pipe holds: signal never blocks, the
	// waker stays readable, and one drain empties it.
	for range 1 << 17 {
		w.signal()
	}
	if !readable(t, w.rfd) {
		t.Fatal("not readable after a full pipe of signals")
	}
	w.drain()
	if readable(t, w.rfd) {
		t.Fatal("readable after draining a full pipe")
	}
	if allocs := testing.AllocsPerRun(100, func() { w.signal(); w.drain() }); allocs != 0 {
		t.Fatalf("%v allocations per signal and drain", allocs)
	}
	if err := w.close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := w.close(); err != nil || w.rfd != -1 || w.wfd != -1 {
		t.Fatalf("second close: %v, fds %d %d", err, w.rfd, w.wfd)
	}
}
