package evloop

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a Loop.
type Config struct {
	// Table is the fd table, shared by all loops of a service. nil: the loop
	// allocates its own table of SizeTable(0).TableSize slots.
	Table *Table
	// External selects external-poll mode: there is no internal poller, every
	// registration change is forwarded to these notifications, and the user's
	// loop calls ServiceFD, ServiceTimers and NextTimeout. Run is not
	// available. It needs an fd backend (unix): New fails with ErrNoFD on
	// BackendPortable.
	External *External
	// Backend selects how the loop waits (see Backend); the zero value is
	// the platform's default.
	Backend Backend
}

// wakeup is how Post, Stop and Notify wake a waiting loop: an eventfd or a
// pipe registered with the poller, or the channel of BackendPortable.
type wakeup interface {
	signal()
	drain()
	close() error
}

var loopIDs atomic.Uint32

// Loop is one service loop: a poller, a wake-up fd with a posted-func queue,
// and timers. See the package documentation for the ownership rule.
type Loop struct {
	id     uint32
	tab    *Table
	p      poller
	ext    *External
	w      wakeup
	wakeFD int          // the wake-up's fd, -1 on BackendPortable or once released
	port   *notified    // the notified handlers; nil except on BackendPortable
	ready  []readyEvent // reused by every wait (loop only)
	nfds   int          // fds registered by this loop (loop only)

	mu       sync.Mutex
	queue    []func() // posted funcs, FIFO (mu)
	closed   bool     // Close called: Post fails (mu)
	sealed   bool     // Seal or Finish called: Post fails (mu)
	released bool     // poller and wake fds closed (mu)
	running  bool     // inside Run (mu)
	spare    []func() // the other queue buffer (loop only)
	carry    []func() // posted funcs taken from queue, not all run yet (loop only)
	carryOff int      // carry[carryOff:] still to run (loop only)

	wakePending atomic.Bool // a wake-up write is outstanding
	stopped     atomic.Bool
	wakeWrites  atomic.Uint64 // wake-up writes (stats, tests)
	wakeDrains  atomic.Uint64 // wake-up drains (stats, tests)

	timers   timerHeap // loop only
	timerSeq uint64    // bumped per timer run phase
	base     time.Time // monotonic origin of timer deadlines
	now      time.Time // cached per iteration
	nowMono  int64     // now - base in ns

	runner atomic.Int64 // id of the goroutine that runs or ran Run, until Close (InLoop)
	gid    atomic.Int64 // loop goroutine id (lwsdebug builds only)
}

// New creates a loop of the configured backend: its poller (epoll on
// Linux, poll(2) on other unix systems or with BackendPoll, none with
// External) and its wake-up fd (an eventfd on Linux, a pipe elsewhere),
// which it registers (in external mode through External.Add); or, on
// BackendPortable, the channel it waits on, and no fd at all.
func New(cfg Config) (*Loop, error) {
	backend, err := cfg.backend()
	if err != nil {
		return nil, err
	}
	l := &Loop{id: loopIDs.Add(1), tab: cfg.Table, ext: cfg.External, wakeFD: -1}
	if l.id == 0 { // wrapped: 0 means free
		l.id = loopIDs.Add(1)
	}
	if l.tab == nil {
		sz, err := SizeTable(0)
		if err != nil {
			return nil, err
		}
		l.tab = NewTable(sz.TableSize)
	}
	l.base = time.Now()
	l.now = l.base
	if backend == BackendPortable {
		p := newPortablePoller(l.handleWake)
		l.p, l.w, l.port = p, p, &notified{}
		return l, nil
	}
	if err := l.initFDBackend(backend, cfg.External); err != nil {
		return nil, err
	}
	return l, nil
}

// Table returns the loop's fd table.
func (l *Loop) Table() *Table { return l.tab }

// WakeFD returns the fd the loop polls for its wake-up (useful in external mode
// to recognise it; it is announced through External.Add like any other fd),
// or -1 on BackendPortable and after Close.
func (l *Loop) WakeFD() int { return l.wakeFD }

// Add registers fd with handler h for ev (Readable and/or Writable; Hangup
// and Error are always reported). Call it on the loop goroutine or before Run.
// It fails with ErrTableFull if fd >= Table().Size(), with ErrExists if fd
// is already registered by any loop sharing the table, and with ErrNoFD on
// BackendPortable (see AddNotified).
func (l *Loop) Add(fd int, h Handler, ev Events) error {
	l.AssertInLoop()
	if l.port != nil {
		return ErrNoFD
	}
	if fd < 0 || h == nil {
		return ErrBadFD
	}
	if fd >= len(l.tab.slots) {
		return ErrTableFull
	}
	s := &l.tab.slots[fd]
	if !s.owner.CompareAndSwap(0, l.id) {
		return ErrExists
	}
	ev &= interest
	s.h = h
	s.ev = uint16(ev)
	s.gen++
	if err := l.p.add(fd, ev); err != nil {
		s.h = nil
		s.ev = 0
		s.owner.Store(0)
		return err
	}
	l.nfds++
	l.tab.n.Add(1)
	return nil
}

// owned returns fd's slot if this loop registered it.
func (l *Loop) owned(fd int) *slot {
	if fd < 0 || fd >= len(l.tab.slots) {
		return nil
	}
	s := &l.tab.slots[fd]
	if s.owner.Load() != l.id {
		return nil
	}
	return s
}

// Modify changes the interest of a registered fd (or notified id). Call it
// on the loop goroutine.
func (l *Loop) Modify(fd int, ev Events) error {
	l.AssertInLoop()
	s := l.owned(fd)
	if s == nil {
		return ErrNotRegistered
	}
	ev &= interest
	old := Events(s.ev)
	if old == ev {
		return nil
	}
	if l.port != nil {
		l.modifyNotified(fd, old, ev)
	} else if err := l.p.modify(fd, old, ev); err != nil {
		return err
	}
	s.ev = uint16(ev)
	return nil
}

// Events returns the interest registered for fd (or notified id), or 0.
// Call it on the loop goroutine.
func (l *Loop) Events(fd int) Events {
	if s := l.owned(fd); s != nil {
		return Events(s.ev)
	}
	return 0
}

// Remove unregisters fd. It never closes fd. Events already collected for fd
// in the current batch are dropped. On BackendPortable it unregisters a
// notified id: nothing is delivered to it from then on, and its
// Notifier's later calls have no effect. Call it on the loop goroutine.
func (l *Loop) Remove(fd int) error {
	l.AssertInLoop()
	s := l.owned(fd)
	if s == nil {
		return ErrNotRegistered
	}
	if l.port != nil {
		l.removeNotified(fd)
		return nil
	}
	err := l.p.remove(fd, Events(s.ev))
	l.release(s)
	return err
}

func (l *Loop) release(s *slot) {
	s.h = nil
	s.ev = 0
	s.owner.Store(0)
	l.nfds--
	l.tab.n.Add(-1)
}

// Post queues f to run on the loop goroutine. Safe from any goroutine; funcs
// run in the order they were posted. A burst of posts (and notifications)
// costs one wake-up write. Returns ErrClosed after Close, Seal or Finish.
func (l *Loop) Post(f func()) error {
	l.mu.Lock()
	if l.closed || l.sealed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.queue = append(l.queue, f)
	l.wakeLocked()
	l.mu.Unlock()
	return nil
}

// wakeLocked signals the wake-up unless a signal is already outstanding.
// l.mu is held, so the fd cannot be closed underneath.
func (l *Loop) wakeLocked() {
	if l.released || !l.wakePending.CompareAndSwap(false, true) {
		return
	}
	l.wakeWrites.Add(1)
	l.w.signal()
}

// handleWake drains the wake-up fd, then re-arms the pending flag. The queue
// is swapped later in the same iteration, so a post whose CAS found the flag
// still set is run by that swap.
func (l *Loop) handleWake() {
	l.w.drain()
	l.wakeDrains.Add(1)
	l.wakePending.Store(false)
}

// PostBatch is the most posted funcs one loop iteration runs: a burst of
// posts (broadcasts, sends) is spread over iterations so the fds of the
// loop are serviced in between. The rest run first in the next iteration,
// which then does not wait.
const PostBatch = 1024

// runPosted runs up to PostBatch of the funcs posted so far, in order.
// Funcs posted while they run are left for a later iteration. Inside Run
// (untilStop) it also stops at Stop, leaving the rest to Finish.
func (l *Loop) runPosted(untilStop bool) {
	if l.carryOff == len(l.carry) {
		l.mu.Lock()
		q := l.queue
		if len(q) == 0 {
			l.mu.Unlock()
			return
		}
		l.queue = l.spare[:0]
		l.spare = nil
		l.mu.Unlock()
		l.carry, l.carryOff = q, 0
	}
	end := min(len(l.carry), l.carryOff+PostBatch)
	for l.carryOff < end {
		if untilStop && l.stopped.Load() {
			return
		}
		f := l.carry[l.carryOff]
		l.carry[l.carryOff] = nil
		l.carryOff++
		f()
	}
	if l.carryOff == len(l.carry) {
		l.spare = l.carry[:0]
		l.carry, l.carryOff = nil, 0
	}
}

func (l *Loop) pendingPosts() bool {
	if l.carryOff < len(l.carry) {
		return true
	}
	l.mu.Lock()
	n := len(l.queue)
	l.mu.Unlock()
	return n > 0
}

func (l *Loop) updateNow() {
	l.now = time.Now()
	l.nowMono = int64(l.now.Sub(l.base))
}

// Now returns the time cached at the start of the current iteration
// (monotonic). Call it on the loop goroutine.
func (l *Loop) Now() time.Time { return l.now }

// Run services the loop until Stop: wait (up to the next timer deadline),
// dispatch each ready fd to its handler, run due timers, run posted funcs.
// The calling goroutine becomes the loop goroutine. Run returns nil after
// Stop, ErrClosed after Close, ErrExternal in external-poll mode, or the
// poller's error.
func (l *Loop) Run() error {
	if l.ext != nil {
		return ErrExternal
	}
	l.mu.Lock()
	switch {
	case l.closed:
		l.mu.Unlock()
		return ErrClosed
	case l.running:
		l.mu.Unlock()
		return ErrRunning
	}
	l.running = true
	l.mu.Unlock()
	l.runner.Store(goid())
	l.enterLoop()

	err := l.run()

	l.leaveLoop()
	l.mu.Lock()
	l.running = false
	if l.closed {
		l.releaseLocked()
	}
	l.mu.Unlock()
	return err
}

func (l *Loop) run() error {
	for !l.stopped.Load() {
		ready, err := l.p.wait(l.waitTimeoutMs(), l.ready[:0])
		if err != nil {
			return err
		}
		l.updateNow()
		l.collectGens(ready)
		l.dispatch(ready)
		l.ready = ready[:0]
		if l.port != nil {
			l.deliverNotified()
		}
		l.runTimers()
		l.runPosted(true)
	}
	return nil
}

// collectGens records each ready fd's slot generation before any handler runs.
func (l *Loop) collectGens(ready []readyEvent) {
	for i := range ready {
		r := &ready[i]
		if int(r.fd) == l.wakeFD {
			continue
		}
		if s := l.owned(int(r.fd)); s != nil {
			r.gen = s.gen
		} else {
			r.fd = -1
		}
	}
}

// dispatch runs the handlers of the ready fds; after Stop the rest of the
// batch is left (the poll is level-triggered: nothing is lost).
func (l *Loop) dispatch(ready []readyEvent) {
	for i := range ready {
		r := ready[i]
		if r.fd < 0 {
			continue
		}
		if l.stopped.Load() {
			return
		}
		if int(r.fd) == l.wakeFD {
			l.handleWake()
			continue
		}
		s := &l.tab.slots[r.fd]
		// Skip fds removed (or removed and re-added) earlier in this batch.
		if s.owner.Load() != l.id || s.gen != r.gen {
			continue
		}
		// And events whose interest a handler took away meanwhile.
		if ev := r.ev & (Events(s.ev) | Hangup | Error); ev != 0 {
			s.h.OnEvents(int(r.fd), ev)
		}
	}
}

// waitTimeoutMs is the poll timeout: -1 without timers, else the time to the
// next deadline rounded up to whole milliseconds.
func (l *Loop) waitTimeoutMs() int {
	if l.pendingPosts() || l.hasDeliverable() {
		// Posted work left over from the last iteration (PostBatch), or
		// queued behind it while no wake-up was outstanding; or notified
		// events a Modify made deliverable after this iteration's delivery.
		return 0
	}
	d := l.untilNextTimer()
	if d < 0 {
		return -1
	}
	ms := (d + int64(time.Millisecond) - 1) / int64(time.Millisecond)
	if ms > math.MaxInt32 {
		ms = math.MaxInt32
	}
	return int(ms)
}

// untilNextTimer is -1 without timers, else ns to the next deadline (>= 0).
func (l *Loop) untilNextTimer() int64 {
	if len(l.timers) == 0 {
		return -1
	}
	d := l.timers[0].when - int64(time.Since(l.base))
	if d < 0 {
		d = 0
	}
	return d
}

// Stop makes Run return without finishing its iteration: the ready fds
// and the posted funcs not handled yet are left (the posted funcs to
// Finish) once the handler or func running now returns. Safe from any
// goroutine; it wakes the loop. Stop is permanent.
func (l *Loop) Stop() {
	l.stopped.Store(true)
	l.mu.Lock()
	l.wakeLocked()
	l.mu.Unlock()
}

// Seal makes Post fail with ErrClosed from now on, the loop otherwise
// unchanged: the funcs posted before stay queued. Safe from any goroutine.
func (l *Loop) Seal() {
	l.mu.Lock()
	l.sealed = true
	l.mu.Unlock()
}

// Finish seals the loop and runs, in order, every func posted before and
// not run yet, so work handed to a stopped loop is done rather than lost:
// funcs that close a descriptor or report a failure, for instance. Call it
// on the goroutine that ran Run (still the loop goroutine: InLoop), after
// Run returned, and before Close.
func (l *Loop) Finish() {
	l.Seal()
	for l.pendingPosts() {
		l.runPosted(false)
	}
}

// Close releases the poller and the wake-up fds (in external mode after
// External.Delete of the wake-up fd). Registered fds are not closed; their
// table slots are freed. Posted funcs not yet run are dropped and Post fails
// with ErrClosed from now on. Called while Run is active (from any
// goroutine, including a handler) it stops the loop and Run releases on its
// way out.
func (l *Loop) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closed = true
	if l.running {
		l.stopped.Store(true)
		l.wakeLocked()
		l.mu.Unlock()
		return nil
	}
	l.mu.Unlock()
	// Not running, and Post now fails: only this goroutine touches the loop.
	// The external Delete notification runs without l.mu held.
	var perr error
	if l.wakeFD >= 0 {
		perr = l.p.remove(l.wakeFD, Readable)
	}
	l.mu.Lock()
	err := l.releaseLocked()
	l.mu.Unlock()
	if perr != nil {
		return perr
	}
	return err
}

func (l *Loop) releaseLocked() error {
	if l.released {
		return nil
	}
	if l.nfds > 0 {
		for fd := range l.tab.slots {
			if s := &l.tab.slots[fd]; s.owner.Load() == l.id {
				if l.port != nil {
					l.removeNotified(fd)
				} else {
					l.release(s)
				}
			}
		}
	}
	perr := l.p.close()
	if err := l.w.close(); perr == nil {
		perr = err
	}
	l.released = true
	l.wakeFD = -1
	l.runner.Store(0)
	clear(l.queue)
	l.queue = nil
	l.spare = nil
	if l.port != nil {
		l.port.inbox = nil
	}
	return perr
}

// ServiceFD dispatches one ready fd reported by the user's poll loop (the
// wake-up fd included), then runs due timers and posted funcs. It is the
// external-poll counterpart of one Run iteration.
func (l *Loop) ServiceFD(fd int, ev Events) {
	l.claimLoop()
	if l.isReleased() {
		return
	}
	l.updateNow()
	if fd == l.wakeFD {
		l.handleWake()
	} else if s := l.owned(fd); s != nil {
		if ev &= Events(s.ev) | Hangup | Error; ev != 0 {
			s.h.OnEvents(fd, ev)
		}
	}
	l.runTimers()
	l.runPosted(false)
}

// ServiceTimers runs due timers and posted funcs; call it after the user's
// poll loop timed out (or at any time on the loop goroutine).
func (l *Loop) ServiceTimers() {
	l.claimLoop()
	if l.isReleased() {
		return
	}
	l.updateNow()
	l.runTimers()
	l.runPosted(false)
}

// NextTimeout is how long the user's poll loop may sleep: -1 when there is
// no timer and no posted work, 0 when work is pending, else the time to the
// next timer deadline.
func (l *Loop) NextTimeout() time.Duration {
	if l.pendingPosts() {
		return 0
	}
	return time.Duration(l.untilNextTimer())
}

func (l *Loop) isReleased() bool {
	l.mu.Lock()
	r := l.released
	l.mu.Unlock()
	return r
}
