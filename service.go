package lws

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lws-go/lws/evloop"
	"github.com/lws-go/lws/logging"
	"github.com/lws-go/lws/wsproto"
)

// Service is a running set of service loops with their connections
// (libwebsockets' struct libwebsocket_context).
type Service struct {
	cfg    Config
	limits Limits
	table  *evloop.Table
	loops  []*serviceLoop
	ln     *listener // nil for a client-only service
	// maxConns is how many connections may be open at once
	maxConns int
	rr       atomic.Uint32

	live     atomic.Int64 // connections in the table
	closing  atomic.Bool
	drained  chan struct{} // closed when live reaches 0 during Shutdown
	drainOne sync.Once

	running sync.WaitGroup
	started atomic.Bool
	closeMu sync.Mutex
	closed  atomic.Bool   // Close was called (set under closeMu)
	runs    bool          // Run services the loops: Close stops them and waits (closeMu)
	stopped chan struct{} // closed when Run has closed everything on its way out
}

// serviceLoop is one service loop with what its connections share.
type serviceLoop struct {
	svc      *Service
	ev       *evloop.Loop
	rbuf     []byte                    // shared read buffer: connections hold no read buffer
	bufs     freeList[[]byte]          // the buffer pool (transport.go)
	bufBytes int                       // its buffers' capacity in all, at most maxPoolBytes
	conns    connList                  // every connection owned by this loop
	parsers  freeList[*wsproto.Parser] // idle frame parsers
	httpFree freeList[*httpState]      // HTTP states of upgraded connections, for reuse
	inbox    inbox                     // sockets accepted for this loop by another (handoff.go)
	portable bool                      // the loop is of evloop.BackendPortable: sockets are net.Conns (transport.go)

	sweep      *evloop.Timer // keepalive and write-stall sweep (keepalive.go)
	sweepEvery time.Duration
	sweepArmed bool
	index      int

	stats        loopStats    // counters of Service.Stats (stats.go)
	backlog      atomic.Int64 // bytes of broadcasts posted to this loop and not yet handed out (post.go)
	establishing establishing // the connection in OnEstablished, for Conn.Request (handshake_request.go)
}

const readBufferSize = 64 << 10

// New creates a service: it sizes the connection table, creates the loops
// and, when cfg.Addr is set, the listening socket. Run services it.
func New(cfg Config) (*Service, error) {
	s := &Service{cfg: cfg, limits: cfg.Limits.withDefaults(), drained: make(chan struct{}), stopped: make(chan struct{})}
	s.cfg.TLS = prepareServerTLS(cfg.TLS)
	sz, err := sizeTable(cfg.MaxConns)
	if err != nil {
		return nil, fmt.Errorf("lws: sizing connection table: %w", err)
	}
	s.table = evloop.NewTable(sz.TableSize)

	n := cfg.Loops
	if n <= 0 {
		n = 1
	}
	if cfg.External != nil && n != 1 {
		return nil, errors.New("lws: an external poll loop drives exactly one service loop")
	}
	for i := 0; i < n; i++ {
		backend := cfg.Backend
		if backend == BackendDefault && cfg.External == nil {
			backend = testBackend
		}
		ev, err := evloop.New(evloop.Config{Table: s.table, External: cfg.External, Backend: backend})
		if err != nil {
			s.closeLoops()
			return nil, fmt.Errorf("lws: creating service loop: %w", err)
		}
		l := &serviceLoop{svc: s, ev: ev, portable: ev.Portable(), rbuf: make([]byte, readBufferSize), index: i}
		l.inbox.drain = l.adoptHandedOff
		s.loops = append(s.loops, l)
	}
	if cfg.Addr != "" {
		ln, err := listen(s.loops[0], cfg.Addr)
		if err != nil {
			s.closeLoops()
			return nil, err
		}
		s.ln = ln
	}
	s.setConnLimit(sz) // before the portable backend's acceptor reads the limit
	if s.ln != nil {
		if err := s.ln.start(); err != nil {
			s.closeLoops()
			return nil, fmt.Errorf("lws: registering listener: %w", err)
		}
		logging.Noticef("listening on %s", s.ln.addr)
	}
	return s, nil
}

// Addr is the listening address, or nil for a client-only service.
func (s *Service) Addr() net.Addr {
	if s.ln == nil {
		return nil
	}
	return s.ln.addr
}

// Port is the listening TCP port, or 0.
func (s *Service) Port() int {
	if s.ln == nil {
		return 0
	}
	return s.ln.addr.Port
}

// Run services the loops until Close or Shutdown: loop 0 runs on the calling
// goroutine, the others on goroutines of their own. On its way out every
// connection left is closed, the work posted to the loops before they
// stopped is done, and the listener and the loops are released. It
// returns nil after a clean stop. With Config.External there is nothing to
// run: the caller's loop calls ServiceFD and ServiceTimers instead.
func (s *Service) Run() error {
	if s.cfg.External != nil {
		return errors.New("lws: Run with an external poll loop; call ServiceFD and ServiceTimers instead")
	}
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("lws: Run called twice")
	}
	s.closeMu.Lock()
	if s.closed.Load() {
		s.closeMu.Unlock()
		return ErrServiceClosed
	}
	s.runs = true
	s.running.Add(len(s.loops))
	s.closeMu.Unlock()
	errs := make([]error, len(s.loops))
	for i := 1; i < len(s.loops); i++ {
		go func(i int) {
			defer s.running.Done()
			errs[i] = s.loops[i].run()
		}(i)
	}
	errs[0] = s.loops[0].run()
	s.running.Done()
	s.running.Wait()
	s.release()
	close(s.stopped)
	return errors.Join(errs...)
}

// run services the loop until it stops, then, still on its goroutine,
// closes every connection it holds, runs what was posted to it before it
// stopped (broadcasts and sends then find no connection; a socket handed
// over or a client connection started is closed or failed) and closes
// what that adopted.
func (l *serviceLoop) run() error {
	err := l.ev.Run()
	l.svc.closing.Store(true)
	l.closeAll()
	l.ev.Finish()
	l.closeAll()
	return err
}

// Post runs f on service loop 0. Safe from any goroutine. A panic in f is
// logged at ERR with its stack and the loop goes on.
func (s *Service) Post(f func()) error {
	if err := s.loops[0].ev.Post(func() { runRecovered("posted function", f) }); err != nil {
		return ErrServiceClosed
	}
	return nil
}

// runRecovered runs f, logging a panic instead of letting it end the loop.
func runRecovered(what string, f func()) {
	defer func() {
		if r := recover(); r != nil {
			logging.Errf("panic in %s: %v\n%s", what, r, debug.Stack())
		}
	}()
	f()
}

// RequestWriteableAll asks for one OnWriteable callback on every established
// connection of protocol p (libwebsocket_callback_on_writable_all_protocol).
// Safe from any goroutine.
func (s *Service) RequestWriteableAll(p *Protocol) {
	for _, l := range s.loops {
		l := l
		_ = l.ev.Post(func() {
			for c := l.conns.head; c != nil; c = c.next {
				if c.proto == p && c.state == stateWS {
					c.RequestWriteable()
				}
			}
		})
	}
}

// Connections is the number of connections currently in the table.
func (s *Service) Connections() int { return int(s.live.Load()) }

// TableSize is the number of slots of the connection table.
func (s *Service) TableSize() int { return s.table.Size() }

// MaxConns is how many connections the service accepts at once: the fd
// limit less the fds in use at start, capped by Config.MaxConns.
func (s *Service) MaxConns() int { return s.maxConns }

// ServiceFD services one descriptor reported ready by an external poll loop,
// then due timers and posted work (libwebsocket_service_fd).
func (s *Service) ServiceFD(fd int, ev evloop.Events) { s.loops[0].ev.ServiceFD(fd, ev) }

// ServiceTimers runs due timers and posted work; an external poll loop calls
// it when its poll times out.
func (s *Service) ServiceTimers() { s.loops[0].ev.ServiceTimers() }

// NextTimeout is how long an external poll loop may sleep before calling
// ServiceTimers: -1 for no timer, 0 when work is pending.
func (s *Service) NextTimeout() time.Duration { return s.loops[0].ev.NextTimeout() }

// Close stops the service at once: every connection is closed without a
// close handshake, the listener is closed and Run returns. The loops stop
// as soon as the callback or posted function running returns, however
// much posted work (broadcasts, sends) waits: from then on posting fails,
// and what was posted is done after the connections are closed. Safe from
// any goroutine, Close waits until Run has closed everything; later calls
// do nothing but wait likewise. Called on a loop goroutine (from a
// callback or a posted function), where that wait could never end, it
// only stops the loops and returns, and the close completes once the
// callback has returned (a build with the lwsdebug tag logs an error: call
// it from another goroutine). With Config.External call it from the
// goroutine of the external poll loop, between ServiceFD calls: every
// descriptor is then reported deleted.
func (s *Service) Close() error {
	s.closeMu.Lock()
	first := !s.closed.Load()
	s.closed.Store(true)
	runs := s.runs
	s.closeMu.Unlock()

	if !runs {
		if first {
			s.closing.Store(true)
			for _, l := range s.loops {
				l.closeAll()
			}
			s.release()
		}
		return nil
	}
	if first {
		s.closing.Store(true)
		for _, l := range s.loops {
			l.ev.Seal() // no more work: what is posted is done after the close
			l.ev.Stop()
		}
	}
	if s.onLoop() {
		if first {
			reportOnLoop("Close")
		}
		return nil
	}
	<-s.stopped
	return nil
}

// release closes the listener and the loops once no loop runs.
func (s *Service) release() {
	if s.ln != nil {
		s.ln.stop() // unregisters it: an external poll loop gets its Delete
		s.ln.close()
	}
	s.closeLoops()
}

// onLoop reports whether the caller runs on one of the service's loops.
func (s *Service) onLoop() bool {
	for _, l := range s.loops {
		if l.ev.InLoop() {
			return true
		}
	}
	return false
}

// Shutdown stops accepting, sends close 1001 "going away" to every
// WebSocket connection and closes plain HTTP ones, then waits until every
// connection is gone or ctx ends, and finally closes the service as Close
// does: it returns by ctx's deadline, the connections still open then
// closed abruptly. It returns ctx's error when connections were still
// open at its end. Called on a loop goroutine of Run (from a callback),
// where it could not wait for the loop it runs on, it starts the shutdown,
// returns nil at once and completes on a goroutine of its own (a build
// with the lwsdebug tag logs an error).
//
// Connections upgraded from net/http (Service.Upgrade, Service.Handler)
// are the service's: http.Server.Shutdown leaves them alone, and this
// Shutdown is what closes them. A program that has both shuts down the
// http.Server first (no new upgrades), then the service.
func (s *Service) Shutdown(ctx context.Context) error {
	if s.onLoop() {
		reportOnLoop("Shutdown")
		go s.Shutdown(ctx)
		return nil
	}
	if !s.closing.CompareAndSwap(false, true) {
		return s.Close()
	}
	for _, l := range s.loops {
		l := l
		_ = l.ev.Post(func() {
			if s.ln != nil && s.ln.loop == l {
				s.ln.stop()
			}
			for c := l.conns.head; c != nil && !s.closed.Load(); {
				next := c.next
				c.goAway() // may copy much queued output: Close ends the walk
				c = next
			}
			s.checkDrained()
		})
	}
	var err error
	select {
	case <-s.drained:
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.Close()
	return err
}

func (s *Service) checkDrained() {
	if s.closing.Load() && s.live.Load() == 0 {
		s.drainOne.Do(func() { close(s.drained) })
	}
}

func (s *Service) closeLoops() {
	for _, l := range s.loops {
		l.ev.Close()
	}
}

// loopFor picks the loop a new connection goes to.
func (s *Service) loopFor() *serviceLoop {
	if len(s.loops) == 1 {
		return s.loops[0]
	}
	return s.loops[int(s.rr.Add(1))%len(s.loops)]
}

// closeAll closes every connection of the loop at once.
func (l *serviceLoop) closeAll() {
	for c := l.conns.head; c != nil; {
		next := c.next
		c.closeNow()
		c = next
	}
}

// connList is an intrusive doubly linked list of a loop's connections.
type connList struct {
	head *Conn
	n    int
}

func (cl *connList) add(c *Conn) {
	c.prev, c.next = nil, cl.head
	if cl.head != nil {
		cl.head.prev = c
	}
	cl.head = c
	cl.n++
}

func (cl *connList) remove(c *Conn) {
	if c.prev != nil {
		c.prev.next = c.next
	} else if cl.head == c {
		cl.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	}
	c.prev, c.next = nil, nil
	cl.n--
}
