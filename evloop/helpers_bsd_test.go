//go:build unix && !linux

package evloop

// fdBackends are the backends that poll fds on this system.
var fdBackends = []Backend{BackendPoll}
