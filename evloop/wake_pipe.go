//go:build unix

package evloop

import (
	"syscall"

	"github.com/lws-go/lws/internal/sockio"
	"golang.org/x/sys/unix"
)

// pipeWaker is a non-blocking, close-on-exec pipe: the wake-up where there
// is no eventfd. It builds on Linux too, where its tests run it.
type pipeWaker struct {
	rfd, wfd int
	buf      [64]byte // drain's read buffer (loop goroutine only)
}

// newPipeWaker makes the pipe close-on-exec while syscall.ForkLock is
// held, so that a fork of another goroutine cannot pass it to a child in
// between (these systems have no pipe2 with O_CLOEXEC everywhere).
func newPipeWaker() (pipeWaker, error) {
	var p [2]int
	syscall.ForkLock.RLock()
	err := unix.Pipe(p[:])
	if err == nil {
		unix.CloseOnExec(p[0])
		unix.CloseOnExec(p[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return pipeWaker{rfd: -1, wfd: -1}, err
	}
	w := pipeWaker{rfd: p[0], wfd: p[1]}
	for _, fd := range p {
		if err := unix.SetNonblock(fd, true); err != nil {
			w.close()
			return pipeWaker{rfd: -1, wfd: -1}, err
		}
	}
	return w, nil
}

// pipeSignal is the byte signal writes, outside the stack so that no build
// (-race included) allocates it per call.
var pipeSignal = []byte{1}

// signal writes one byte (sockio retries an interrupted write). EAGAIN
// (pipe full) still leaves it readable.
func (w *pipeWaker) signal() { _, _ = sockio.Write(w.wfd, pipeSignal) }

// drain reads until the pipe is empty.
func (w *pipeWaker) drain() {
	for {
		n, err := sockio.Read(w.rfd, w.buf[:])
		if err != nil || n < len(w.buf) {
			return
		}
	}
}

func (w *pipeWaker) close() error {
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
