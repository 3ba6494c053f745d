package lws

import (
	"net/netip"
	"sync"

	"github.com/lws-go/lws/internal/sockio"
)

// inbox takes the sockets the listener's loop accepts for another loop.
// Handing each over with a posted closure would cost an allocation (the
// closure and what it captures, about 48 bytes) per connection, garbage
// that with several loops showed up as RSS per idle connection. Instead
// the sockets queue here and one drain, a method value bound once, is
// posted per burst.
type inbox struct {
	mu     sync.Mutex
	fds    []acceptedFD
	spare  []acceptedFD // the drained slice, for reuse
	posted bool         // a drain is posted and has not taken fds yet
	drain  func()       // l.adoptHandedOff, bound once
}

// acceptedFD is an accepted socket on its way to its loop.
type acceptedFD struct {
	fd     int
	remote netip.AddrPort
}

// handOff queues an accepted socket for l and makes sure a drain is posted
// to it. Any goroutine may call it. If l no longer runs, the socket is
// closed.
func (l *serviceLoop) handOff(fd int, remote netip.AddrPort) {
	in := &l.inbox
	in.mu.Lock()
	in.fds = append(in.fds, acceptedFD{fd, remote})
	post := !in.posted
	in.posted = true
	in.mu.Unlock()
	if !post {
		return
	}
	if err := l.ev.Post(in.drain); err != nil {
		for _, a := range l.takeHandedOff() {
			sockio.Close(a.fd)
		}
	}
}

// takeHandedOff empties the inbox: the sockets queued so far are the
// caller's, and the next handOff posts a new drain.
func (l *serviceLoop) takeHandedOff() []acceptedFD {
	in := &l.inbox
	in.mu.Lock()
	defer in.mu.Unlock()
	fds := in.fds
	in.fds, in.spare = in.spare[:0], nil
	in.posted = false
	return fds
}

// adoptHandedOff, on l, adopts the sockets handed over to it.
func (l *serviceLoop) adoptHandedOff() {
	fds := l.takeHandedOff()
	for _, a := range fds {
		l.adoptAccepted(a.fd, a.remote)
	}
	clear(fds)
	l.inbox.mu.Lock()
	if l.inbox.spare == nil {
		l.inbox.spare = fds[:0]
	}
	l.inbox.mu.Unlock()
}
