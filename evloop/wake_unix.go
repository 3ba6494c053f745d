//go:build unix && !linux

package evloop

import "golang.org/x/sys/unix"

// waker is a non-blocking, close-on-exec pipe.
type waker struct {
	rfd, wfd int
}

func newWaker() (waker, error) {
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		return waker{-1, -1}, err
	}
	for _, fd := range p {
		unix.CloseOnExec(fd)
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(p[0])
			unix.Close(p[1])
			return waker{-1, -1}, err
		}
	}
	return waker{p[0], p[1]}, nil
}

// signal writes one byte. EAGAIN (pipe full) still leaves it readable.
func (w *waker) signal() {
	b := [1]byte{1}
	for {
		_, err := unix.Write(w.wfd, b[:])
		if err != unix.EINTR {
			return
		}
	}
}

// drain reads until the pipe is empty.
func (w *waker) drain() {
	var b [64]byte
	for {
		n, err := unix.Read(w.rfd, b[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || n < len(b) {
			return
		}
	}
}

func (w *waker) close() error {
	if w.rfd < 0 {
		return nil
	}
	err := unix.Close(w.rfd)
	if err2 := unix.Close(w.wfd); err == nil {
		err = err2
	}
	w.rfd, w.wfd = -1, -1
	return err
}
