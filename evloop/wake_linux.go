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
}

func newWaker() (waker, error) {
	fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return waker{-1, -1}, err
	}
	return waker{fd, fd}, nil
}

// signal adds 1 to the counter. EAGAIN (counter saturated) still leaves it readable.
func (w *waker) signal() {
	var b [8]byte
	binary.NativeEndian.PutUint64(b[:], 1)
	for {
		_, err := sockio.Write(w.wfd, b[:])
		if err != unix.EINTR {
			return
		}
	}
}

// drain resets the counter with one read.
func (w *waker) drain() {
	var b [8]byte
	for {
		_, err := sockio.Read(w.rfd, b[:])
		if err != unix.EINTR {
			return
		}
	}
}

func (w *waker) close() error {
	if w.rfd < 0 {
		return nil
	}
	err := unix.Close(w.rfd)
	w.rfd, w.wfd = -1, -1
	return err
}
