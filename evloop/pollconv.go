//go:build unix

package evloop

import "golang.org/x/sys/unix"

// EventsToPoll converts the interest in ev to poll(2) event bits
// (POLLIN for Readable, POLLOUT for Writable). For external poll loops.
func EventsToPoll(ev Events) int16 {
	var p int16
	if ev&Readable != 0 {
		p |= unix.POLLIN
	}
	if ev&Writable != 0 {
		p |= unix.POLLOUT
	}
	return p
}

// PollToEvents converts poll(2) revents to Events. POLLNVAL maps to Error.
func PollToEvents(revents int16) Events {
	var ev Events
	if revents&(unix.POLLIN|unix.POLLPRI) != 0 {
		ev |= Readable
	}
	if revents&unix.POLLOUT != 0 {
		ev |= Writable
	}
	if revents&unix.POLLHUP != 0 {
		ev |= Hangup
	}
	if revents&(unix.POLLERR|unix.POLLNVAL) != 0 {
		ev |= Error
	}
	return ev
}
