//go:build unix && !linux

package evloop

// newWaker makes a pipe waker: these systems have no eventfd.
func newWaker() (waker, error) { return newPipeWaker() }
