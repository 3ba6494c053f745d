//go:build unix

// Command lws-test-server-extpoll is libwebsockets' test server with an
// external poll loop (libwebsockets-test-server-extpoll): the same wire
// behaviour as lws-test-server (the test page over HTTP, the
// dumb-increment-protocol and lws-mirror-protocol), but this program owns
// the poll(2) loop. The library reports the descriptors to watch through
// its four external-poll notifications (libwebsockets'
// LWS_CALLBACK_ADD_POLL_FD, DEL_POLL_FD, SET_MODE_POLL_FD and
// CLEAR_MODE_POLL_FD), which keep the program's own pollfd array and its
// fd-to-index lookup table, and the loop hands each ready descriptor back
// with Service.ServiceFD (libwebsocket_service_fd). It sleeps in poll no
// longer than Service.NextTimeout, so the library's timers (the
// dumb-increment counter, timeouts) fire on time; the library starts no
// poller of its own. Flags as lws-test-server (-p, -r, -c, -i, -s, -d,
// -D); on SIGINT or SIGTERM the poll loop closes the service.
// Options and wire behaviour: docs/test-apps.md.
package main

import (
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/evloop"
	"github.com/lws-go/lws/internal/testapp"
	"github.com/lws-go/lws/logging"
	"golang.org/x/sys/unix"
)

// maxPollElements caps the pollfd array and lookup table when the fd limit
// is huge (the C app sizes them with getdtablesize()).
const maxPollElements = 1 << 20

// pollSet is the program's own poll array, kept up to date by the
// library's notifications: pollfds[:count] are watched, and lookup[fd] is
// the index of fd in pollfds. deletes[fd] counts deletions of fd, so the
// loop can skip readiness collected before fd was deleted (and perhaps
// reused by a new connection).
type pollSet struct {
	pollfds []unix.PollFd
	lookup  []int
	deletes []uint32
	count   int
}

func newPollSet() *pollSet {
	var rl unix.Rlimit
	n := 1024
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err == nil && rl.Cur > 0 {
		n = int(min(rl.Cur, maxPollElements))
	}
	return &pollSet{pollfds: make([]unix.PollFd, n), lookup: make([]int, n), deletes: make([]uint32, n)}
}

// notifications are the four external-poll callbacks.
func (ps *pollSet) notifications() *evloop.External {
	return &evloop.External{
		Add: func(fd int, ev evloop.Events) { // LWS_CALLBACK_ADD_POLL_FD
			if fd >= len(ps.lookup) || ps.count == len(ps.pollfds) {
				logging.Errf("extpoll: no room for fd %d in the poll array", fd)
				return
			}
			ps.lookup[fd] = ps.count
			ps.pollfds[ps.count] = unix.PollFd{Fd: int32(fd), Events: evloop.EventsToPoll(ev)}
			ps.count++
		},
		Delete: func(fd int, _ evloop.Events) { // LWS_CALLBACK_DEL_POLL_FD
			if fd >= len(ps.lookup) {
				return
			}
			ps.deletes[fd]++
			ps.count--
			// Move the last entry into the deleted one's place.
			i := ps.lookup[fd]
			ps.pollfds[i] = ps.pollfds[ps.count]
			ps.lookup[ps.pollfds[i].Fd] = i
		},
		SetMode: func(fd int, ev evloop.Events) { // LWS_CALLBACK_SET_MODE_POLL_FD
			if fd < len(ps.lookup) {
				ps.pollfds[ps.lookup[fd]].Events |= evloop.EventsToPoll(ev)
			}
		},
		ClearMode: func(fd int, ev evloop.Events) { // LWS_CALLBACK_CLEAR_MODE_POLL_FD
			if fd < len(ps.lookup) {
				ps.pollfds[ps.lookup[fd]].Events &^= evloop.EventsToPoll(ev)
			}
		},
	}
}

func main() {
	f := testapp.NewServerFlags("lws-test-server-extpoll", ".lwsts-lock", nil, "")
	f.Parse(os.Args[1:])
	daemon := f.Daemon
	stopped := daemon.MaybeDaemonize()

	tlsConfig, err := f.TLS.Config()
	if err != nil {
		daemon.Fatal(err)
	}
	ps := newPollSet()
	svc, err := lws.New(lws.Config{
		TLS:  tlsConfig,
		Addr: f.Addr(),
		Protocols: []*lws.Protocol{
			{Name: "http-only"},
			testapp.DumbIncrement(f.CloseTest),
			testapp.WithDeflate(testapp.Mirror()),
		},
		HTTP:     testapp.HTTPHandler(f.Root),
		External: ps.notifications(),
	})
	if err != nil {
		daemon.Fatal(err)
	}
	logging.Noticef("lws-test-server-extpoll: serving %s://localhost:%d/ from an external poll loop", f.TLS.Scheme(), svc.Port())
	daemon.Ready()

	// SIGINT or SIGTERM sets stop and wakes the poll through the library's
	// wake-up descriptor, which is in the poll array like every other. The
	// loop then closes the service itself: Close (like every call into an
	// externally polled service) belongs to the poll loop's goroutine.
	var stop atomic.Bool
	go func() {
		<-stopped.Done()
		stop.Store(true)
		svc.Post(func() {})
	}()

	type ready struct {
		fd      int
		revents int16
		deletes uint32
	}
	var batch []ready
	for !stop.Load() {
		n, err := unix.Poll(ps.pollfds[:ps.count], pollTimeout(svc.NextTimeout()))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			svc.Close()
			daemon.Fatal(fmt.Errorf("poll: %w", err))
		}
		if n == 0 {
			svc.ServiceTimers()
			continue
		}
		// Servicing one fd may add or delete others, which reorders the
		// array: collect the ready ones first.
		batch = batch[:0]
		for _, p := range ps.pollfds[:ps.count] {
			if p.Revents != 0 {
				batch = append(batch, ready{int(p.Fd), p.Revents, ps.deletes[p.Fd]})
			}
		}
		for _, r := range batch {
			if ps.deletes[r.fd] == r.deletes { // not deleted meanwhile
				svc.ServiceFD(r.fd, evloop.PollToEvents(r.revents))
			}
		}
	}
	svc.Close()
	daemon.Close()
}

// pollTimeout converts the library's NextTimeout to poll(2) milliseconds,
// rounded up so a timer is never polled for early.
func pollTimeout(d time.Duration) int {
	if d < 0 {
		return -1
	}
	return int((d + time.Millisecond - 1) / time.Millisecond)
}
