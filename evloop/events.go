package evloop

import (
	"errors"
	"strings"
)

// Events is a set of readiness conditions of an fd.
type Events uint32

const (
	// Readable: data (or EOF) can be read, or a listener can accept.
	Readable Events = 1 << iota
	// Writable: the socket accepts more data.
	Writable
	// Hangup: the peer closed its side (RDHUP) or the connection hung up.
	// Always reported, never requested.
	Hangup
	// Error: an error is pending on the fd. Always reported, never requested.
	Error
)

// interest is the part of Events a caller may ask for.
const interest = Readable | Writable

// String returns the set as "Readable|Writable", or "0".
func (e Events) String() string {
	if e == 0 {
		return "0"
	}
	var parts []string
	names := [...]string{"Readable", "Writable", "Hangup", "Error"}
	for i, n := range names {
		if e&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	if rest := e &^ (Readable | Writable | Hangup | Error); rest != 0 {
		parts = append(parts, "0x"+hex32(uint32(rest)))
	}
	return strings.Join(parts, "|")
}

func hex32(v uint32) string {
	const digits = "0123456789abcdef"
	var b [8]byte
	i := len(b)
	for {
		i--
		b[i] = digits[v&0xf]
		v >>= 4
		if v == 0 {
			break
		}
	}
	return string(b[i:])
}

// Handler receives the readiness events of a registered fd. OnEvents is
// called on the loop goroutine that owns the fd, with events within the
// registration's interest at the time of the call (Hangup and Error
// always): an event a poll reported is not delivered if a handler earlier
// in the same batch took its interest away.
type Handler interface {
	OnEvents(fd int, ev Events)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(fd int, ev Events)

// OnEvents calls f(fd, ev).
func (f HandlerFunc) OnEvents(fd int, ev Events) { f(fd, ev) }

var (
	// ErrTableFull: the fd is >= the table size; the connection must be refused.
	ErrTableFull = errors.New("evloop: fd table full")
	// ErrClosed: the loop was closed.
	ErrClosed = errors.New("evloop: loop closed")
	// ErrExists: the fd is already registered (with this or another loop of the table).
	ErrExists = errors.New("evloop: fd already registered")
	// ErrNotRegistered: the fd is not registered with this loop.
	ErrNotRegistered = errors.New("evloop: fd not registered with this loop")
	// ErrBadFD: negative fd or nil handler.
	ErrBadFD = errors.New("evloop: invalid fd or nil handler")
	// ErrRunning: Run was called while the loop is already running.
	ErrRunning = errors.New("evloop: loop already running")
	// ErrExternal: Run was called on a loop in external-poll mode.
	ErrExternal = errors.New("evloop: Run is not available in external-poll mode")
)
