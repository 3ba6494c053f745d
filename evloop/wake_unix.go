//go:build unix && !linux

package evloop

// waker is a pipe: these systems have no eventfd.
type waker = pipeWaker

func newWaker() (waker, error) { return newPipeWaker() }
