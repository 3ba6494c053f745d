package evloop

// readyEvent is one fd reported ready by a wait. gen is the slot generation
// when the batch was collected, so a handler that removes (and maybe re-adds)
// another fd during dispatch does not get it called with stale events.
type readyEvent struct {
	fd  int32
	gen uint16
	ev  Events
}

// poller is a readiness backend. All methods run on the loop goroutine.
// old is the interest registered before the call.
type poller interface {
	add(fd int, ev Events) error
	modify(fd int, old, ev Events) error
	remove(fd int, old Events) error
	// wait blocks up to timeoutMs (-1: forever) and appends the ready fds to
	// buf. gen is filled in by the loop.
	wait(timeoutMs int, buf []readyEvent) ([]readyEvent, error)
	close() error
}
