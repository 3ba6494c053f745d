package lws

import (
	"net/netip"
	"sync"
)

// inbox takes the sockets the listener's loop accepts for another loop.
// Handing each over with a posted closure would cost an allocation (the
// closure and what it captures, about 48 bytes) per connection, garbage
// that with several loops showed up as RSS per idle connection. Instead
// the sockets queue here and one drain, a method value bound once, is
// posted per burst.
type inbox struct {
	mu     sync.Mutex
	socks  []accepted
	spare  []accepted // the drained slice, for reuse
	posted bool       // a drain is posted and has not taken socks yet
	drain  func()     // l.adoptHandedOff, bound once
}

// accepted is an accepted socket on its way to its loop.
type accepted struct {
	sock   socket
	remote netip.AddrPort
}

// handOff queues an accepted socket for l and makes sure a drain is posted
// to it. Any goroutine may call it. If l no longer runs, the socket is
// closed.
func (l *serviceLoop) handOff(sock socket, remote netip.AddrPort) {
	in := &l.inbox
	in.mu.Lock()
	in.socks = append(in.socks, accepted{sock, remote})
	post := !in.posted
	in.posted = true
	in.mu.Unlock()
	if !post {
		return
	}
	if err := l.ev.Post(in.drain); err != nil {
		for _, a := range l.takeHandedOff() {
			a.sock.close()
		}
	}
}

// takeHandedOff empties the inbox: the sockets queued so far are the
// caller's, and the next handOff posts a new drain.
func (l *serviceLoop) takeHandedOff() []accepted {
	in := &l.inbox
	in.mu.Lock()
	defer in.mu.Unlock()
	socks := in.socks
	in.socks, in.spare = in.spare[:0], nil
	in.posted = false
	return socks
}

// adoptHandedOff, on l, adopts the sockets handed over to it.
func (l *serviceLoop) adoptHandedOff() {
	socks := l.takeHandedOff()
	for _, a := range socks {
		l.adoptAccepted(a.sock, a.remote)
	}
	clear(socks)
	l.inbox.mu.Lock()
	if l.inbox.spare == nil {
		l.inbox.spare = socks[:0]
	}
	l.inbox.mu.Unlock()
}
