//go:build unix

package evloop

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// pipeSignal is the byte a pipe waker's signal writes, outside the stack so
// that no build (-race included) allocates it per call.
var pipeSignal = []byte{1}

// newPipeWaker makes the waker of systems with no eventfd: a non-blocking,
// close-on-exec pipe. It builds on Linux too, where its tests run it. The
// pipe is made close-on-exec while syscall.ForkLock is held, so that a fork
// of another goroutine cannot pass it to a child in between (these systems
// have no pipe2 with O_CLOEXEC everywhere).
func newPipeWaker() (waker, error) {
	var p [2]int
	syscall.ForkLock.RLock()
	err := unix.Pipe(p[:])
	if err == nil {
		unix.CloseOnExec(p[0])
		unix.CloseOnExec(p[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return waker{rfd: -1, wfd: -1}, err
	}
	w := waker{rfd: p[0], wfd: p[1], sig: pipeSignal}
	for _, fd := range p {
		if err := unix.SetNonblock(fd, true); err != nil {
			w.close()
			return waker{rfd: -1, wfd: -1}, err
		}
	}
	return w, nil
}
