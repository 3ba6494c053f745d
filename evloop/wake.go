//go:build unix

package evloop

import (
	"github.com/lws-go/lws/internal/sockio"
	"golang.org/x/sys/unix"
)

// waker wakes the loop out of its poller: signal makes rfd readable from
// any goroutine, drain makes it unreadable again. On Linux it is an eventfd,
// one fd for both ends (wake_linux.go); elsewhere a pipe (wake_pipe.go).
type waker struct {
	rfd, wfd int
	sig      []byte   // what signal writes: eventfdOne or pipeSignal
	buf      [64]byte // drain's read buffer (loop goroutine only)
}

// signal writes sig (sockio retries an interrupted write). EAGAIN (eventfd
// counter saturated, pipe full) still leaves rfd readable.
func (w *waker) signal() { _, _ = sockio.Write(w.wfd, w.sig) }

// drain reads until rfd is empty: an eventfd's one read of its 8-byte
// counter resets it, a pipe takes reads until one comes back short.
func (w *waker) drain() {
	for {
		n, err := sockio.Read(w.rfd, w.buf[:])
		if err != nil || n < len(w.buf) {
			return
		}
	}
}

func (w *waker) close() error {
	if w.rfd < 0 {
		return nil
	}
	err := unix.Close(w.rfd)
	if w.wfd != w.rfd {
		if err2 := unix.Close(w.wfd); err == nil {
			err = err2
		}
	}
	w.rfd, w.wfd = -1, -1
	return err
}
