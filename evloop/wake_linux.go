//go:build linux

package evloop

import (
	"encoding/binary"

	"github.com/lws-go/lws/internal/sockio"
	"golang.org/x/sys/unix"
)

// waker is an eventfd: one fd for both ends.
type waker struct {
	rfd, wfd int
	buf      [8]byte // drain's read buffer (loop goroutine only)
}

func newWaker() (waker, error) {
	fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return waker{rfd: -1, wfd: -1}, err
	}
	return waker{rfd: fd, wfd: fd}, nil
}

// eventfdOne is the 8-byte 1 that signal writes. It and the drain buffer
// live outside the stack so that no build (-race included) allocates them
// per call.
var eventfdOne = binary.NativeEndian.AppendUint64(nil, 1)

// signal adds 1 to the counter (sockio retries an interrupted write).
// EAGAIN (counter saturated) still leaves it readable.
func (w *waker) signal() { _, _ = sockio.Write(w.wfd, eventfdOne) }

// drain resets the counter with one read.
func (w *waker) drain() { _, _ = sockio.Read(w.rfd, w.buf[:]) }

func (w *waker) close() error {
	if w.rfd < 0 {
		return nil
	}
	err := unix.Close(w.rfd)
	w.rfd, w.wfd = -1, -1
	return err
}
