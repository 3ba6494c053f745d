package evloop

import "errors"

// Backend selects how a loop learns that its handlers have work.
type Backend uint8

const (
	// BackendDefault is epoll on Linux, poll(2) on the other unix systems
	// and BackendPortable everywhere else (Windows).
	BackendDefault Backend = iota
	// BackendEpoll waits with epoll (level-triggered); Linux only.
	BackendEpoll
	// BackendPoll waits with poll(2); unix systems only.
	BackendPoll
	// BackendPortable polls no file descriptor: the loop waits on a Go
	// channel, and handlers registered with AddNotified learn of readiness
	// through Notifier.Notify, called by goroutines that do the blocking
	// I/O. It builds wherever Go runs and is the only backend on Windows;
	// Add of a real fd fails on it with ErrNoFD.
	BackendPortable
)

// String returns the backend's name: "default", "epoll", "poll" or "portable".
func (b Backend) String() string {
	switch b {
	case BackendDefault:
		return "default"
	case BackendEpoll:
		return "epoll"
	case BackendPoll:
		return "poll"
	case BackendPortable:
		return "portable"
	}
	return "Backend(" + hex32(uint32(b)) + ")"
}

var (
	// ErrBackendUnavailable: the backend asked for does not exist on this
	// system (epoll off Linux, poll(2) or external-poll mode off unix).
	ErrBackendUnavailable = errors.New("evloop: backend not available on this system")
	// ErrNoFD: a real fd was given to a loop of the portable backend (Add,
	// or Config.External), which polls no file descriptor.
	ErrNoFD = errors.New("evloop: the portable backend polls no file descriptors")
	// ErrNotPortable: AddNotified was called on a loop of an fd backend.
	ErrNotPortable = errors.New("evloop: AddNotified needs the portable backend")
)

// backend resolves the configured backend to the one New makes: the
// platform's default for BackendDefault.
func (c Config) backend() (Backend, error) {
	b := c.Backend
	if b == BackendDefault {
		b = platformBackend
	}
	if b > BackendPortable {
		return 0, ErrBackendUnavailable
	}
	if b == BackendPortable && c.External != nil {
		return 0, ErrNoFD
	}
	return b, nil
}
