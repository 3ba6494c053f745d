//go:build unix

package evloop

import "golang.org/x/sys/unix"

// EventsToPoll converts the interest in ev to poll(2) event bits
// (POLLIN for Readable, POLLOUT for Writable). For external poll loops.
func EventsToPoll(ev Events) int16 {
	return eventsToBits[int16](ev, unix.POLLIN, unix.POLLOUT)
}

// PollToEvents converts poll(2) revents to Events. POLLNVAL maps to Error.
func PollToEvents(revents int16) Events {
	return bitsToEvents(revents, unix.POLLIN|unix.POLLPRI, unix.POLLOUT, unix.POLLHUP, unix.POLLERR|unix.POLLNVAL)
}

// eventsToBits converts the interest in ev to a poller's bits, given the
// bits it watches for reading and for writing.
func eventsToBits[T ~int16 | ~uint32](ev Events, readable, writable T) T {
	var b T
	if ev&Readable != 0 {
		b |= readable
	}
	if ev&Writable != 0 {
		b |= writable
	}
	return b
}

// bitsToEvents converts a poller's ready bits to Events, given which of
// its bits mean each event.
func bitsToEvents[T ~int16 | ~uint32](b, readable, writable, hangup, errs T) Events {
	var ev Events
	if b&readable != 0 {
		ev |= Readable
	}
	if b&writable != 0 {
		ev |= Writable
	}
	if b&hangup != 0 {
		ev |= Hangup
	}
	if b&errs != 0 {
		ev |= Error
	}
	return ev
}
