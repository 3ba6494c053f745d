//go:build unix

package evloop

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fdPair is one stream of the fd model test: the loop registers and reads
// the a end of a socketpair, feeders write numbered bytes into the b end.
// The loop may close both ends and open a new pair in their place at any
// time (the kernel then hands out the same fd numbers again); mu keeps a
// feeder from writing to a number closed under it, and the stream's byte
// count goes on across pairs, the bytes a closed pair held counting as
// read (they are dropped with it).
type fdPair struct {
	mu      sync.Mutex
	a, b    int   // the ends (mu; the loop reads a without it)
	written int64 // bytes written into b, over all pairs of the stream (mu)
	read    int64 // bytes read from a, or dropped (mu to write)
	// fresh: the pair was opened in this loop iteration, and feeders
	// leave it empty until the next timer run: any Readable for it in the
	// batch that saw it opened belongs to the pair closed under its number
	// (mu).
	fresh bool

	reg      *fdReg // the live registration of a, nil when none (loop only)
	interest Events // its interest (loop only)
}

// fdReg is one registration of a pair's a end: the handler is the
// registration's own, so a call after Remove, or for a later registration
// of the same number, is seen as such.
type fdReg struct {
	p       *fdPair
	fd      int
	removed bool // loop only
}

// TestFDLoopModel: the fd backends (epoll, poll(2)) under random work,
// checked against a model. Feeder goroutines write numbered bytes into
// socketpairs while the loop, from its handlers, timers and posted
// funcs, changes each registration's interest, removes and re-adds it,
// and closes pairs to open new ones under the same numbers; goroutines
// post numbered funcs; timers are armed, reset and stopped at random.
// The oracle: a handler is called only for its own live registration,
// with events within its interest (Hangup and Error aside); Readable
// means bytes are there (no spurious event), and they come in the order
// written; posted funcs run in order per poster, each once; a timer never
// fires before its deadline, after Stop, or twice per arming. At the end
// every stream gets Readable interest and every byte written must be
// read with no further help (no readiness lost), every post run, every
// armed timer fired.
func TestFDLoopModel(t *testing.T) {
	for _, bk := range fdBackends {
		t.Run(bk.String(), func(t *testing.T) { runFDLoopModel(t, bk) })
	}
}

func runFDLoopModel(t *testing.T, bk Backend) {
	seed := modelSeed(t)
	const (
		pairs   = 8
		feeders = 3
		posters = 2
	)
	l := newLoop(t, Config{Backend: bk})
	rng := rand.New(rand.NewPCG(seed, 2)) // loop goroutine only
	var problems []string                 // loop only
	fail := func(format string, args ...any) {
		if len(problems) < 10 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	var calls, readables, writables, modifies, readds, reopens, timersFired, timersStopped int // loop only
	var stopOps, enough atomic.Bool
	const minOps = 200

	ps := make([]*fdPair, pairs)
	var buf [512]byte
	// open gives p a new pair; p.mu is held, or p is not shared yet.
	open := func(p *fdPair) {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
		if err != nil {
			panic(fmt.Sprintf("socketpair: %v", err))
		}
		for _, fd := range fds {
			unix.CloseOnExec(fd)
			if err := unix.SetNonblock(fd, true); err != nil {
				panic(fmt.Sprintf("nonblock: %v", err))
			}
		}
		p.a, p.b = fds[0], fds[1]
	}
	var register func(p *fdPair)
	unregister := func(p *fdPair) {
		if r := p.reg; r != nil {
			if err := l.Remove(r.fd); err != nil {
				fail("Remove(%d): %v", r.fd, err)
			}
			r.removed, p.reg = true, nil
		}
	}
	// readSome reads what a holds now (-1 for none); the bytes must
	// continue the stream.
	readSome := func(p *fdPair, fd int) int {
		n, err := unix.Read(fd, buf[:rng.IntN(len(buf))+1])
		p.mu.Lock()
		for i := 0; i < n; i++ {
			if want := byte(p.read % 251); buf[i] != want {
				fail("fd %d: byte %d of the stream is %d, want %d", fd, p.read, buf[i], want)
			}
			p.read++
		}
		p.mu.Unlock()
		if err != nil && !errors.Is(err, unix.EAGAIN) {
			fail("read fd %d: %v", fd, err)
		}
		return n
	}
	// reopen closes p's pair with what it holds and opens a new one in its
	// place, most likely under the same numbers.
	reopen := func(p *fdPair) {
		unregister(p)
		p.mu.Lock()
		unix.Close(p.a)
		unix.Close(p.b)
		p.read = p.written
		open(p)
		p.fresh = true
		p.mu.Unlock()
		register(p)
		reopens++
	}
	randomOp := func() {
		p := ps[rng.IntN(pairs)]
		switch op := rng.IntN(20); {
		case op < 11: // a new interest
			ev := Events(rng.IntN(4))
			if p.reg == nil {
				p.interest = ev
				register(p)
				return
			}
			if err := l.Modify(p.a, ev); err != nil {
				fail("Modify(%d): %v", p.a, err)
			}
			p.interest = ev
			modifies++
		case op < 19: // removed, and added again at once or later
			unregister(p)
			if rng.IntN(2) == 0 {
				register(p)
				readds++
			}
		default:
			reopen(p)
		}
	}
	register = func(p *fdPair) {
		r := &fdReg{p: p, fd: p.a}
		h := HandlerFunc(func(fd int, ev Events) {
			calls++
			switch {
			case r.removed || p.reg != r:
				fail("call of %v for fd %d after its registration was removed", ev, fd)
				return
			case fd != r.fd:
				fail("call for fd %d on the handler of fd %d", fd, r.fd)
				return
			case ev == 0 || ev&^(p.interest|Hangup|Error) != 0:
				fail("call of %v for fd %d, interest %v", ev, fd, p.interest)
			}
			if ev&Readable != 0 {
				readables++
				if readSome(p, fd) <= 0 {
					fail("Readable for fd %d with nothing to read", fd)
				}
				// A pair reopened from a handler may be later in the same
				// batch: its events, reported for the old pair, must not
				// reach the new one.
				if !stopOps.Load() && rng.IntN(16) == 0 {
					reopen(ps[rng.IntN(pairs)])
				}
			}
			if ev&Writable != 0 {
				writables++
			}
			// Random work from a handler now and then (Writable comes at
			// every iteration while it is asked for).
			if !stopOps.Load() && rng.IntN(40) == 0 {
				randomOp()
			}
		})
		if err := l.Add(p.a, h, p.interest); err != nil {
			fail("Add(%d): %v", p.a, err)
			return
		}
		p.reg = r
	}

	// Timers: each arming has a deadline by the loop's clock; a firing
	// must come at or after it, from an armed timer.
	type modelTimer struct {
		tm       *Timer
		deadline time.Time
		armed    bool
	}
	var timers []*modelTimer // loop only
	var armTimer func(mt *modelTimer)
	armTimer = func(mt *modelTimer) {
		d := time.Duration(rng.IntN(2000)) * time.Microsecond
		mt.deadline = time.Now().Add(d)
		mt.armed = true
		if mt.tm == nil {
			mt.tm = l.AfterFunc(d, func() {
				timersFired++
				if !mt.armed {
					fail("a timer fired that was stopped or had fired")
				}
				if now := time.Now(); now.Before(mt.deadline) {
					fail("a timer fired %v before its deadline", mt.deadline.Sub(now))
				}
				mt.armed = false
				if !stopOps.Load() {
					randomOp()
					if rng.IntN(2) == 0 {
						armTimer(mt)
					}
				}
			})
			return
		}
		mt.tm.Reset(d)
	}
	unfresh := func() {
		for _, p := range ps {
			p.mu.Lock()
			p.fresh = false
			p.mu.Unlock()
		}
	}
	var tick func()
	tick = func() {
		unfresh() // timers run after the batch's dispatch
		if stopOps.Load() {
			return
		}
		for range rng.IntN(4) {
			randomOp()
		}
		mt := timers[rng.IntN(len(timers))]
		switch {
		case !mt.armed:
			armTimer(mt)
		case rng.IntN(3) == 0:
			if !mt.tm.Stop() {
				fail("Stop of an armed timer reported it was not armed")
			}
			mt.armed = false
			timersStopped++
		default:
			armTimer(mt) // Reset while armed
		}
		if readables >= 10*minOps && writables >= minOps && modifies >= minOps && readds >= minOps && reopens >= minOps/4 && timersFired >= minOps && timersStopped >= minOps/4 {
			enough.Store(true)
		}
		l.AfterFunc(time.Duration(rng.IntN(200))*time.Microsecond, tick)
	}

	for i := range ps {
		ps[i] = &fdPair{}
		open(ps[i])
	}
	startLoop(t, l)
	onLoop(t, l, func() {
		for _, p := range ps {
			p.interest = Readable
			register(p)
		}
		for range 6 {
			timers = append(timers, &modelTimer{})
		}
		tick()
	})

	// Feeders: numbered bytes into random pairs.
	var wg sync.WaitGroup
	deadline := time.Now().Add(waitLong)
	for g := range feeders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(10+g)))
			var out [300]byte
			for !enough.Load() && time.Now().Before(deadline) {
				p := ps[r.IntN(pairs)]
				p.mu.Lock()
				if p.fresh {
					p.mu.Unlock()
					continue
				}
				n := 1 + r.IntN(len(out))
				for i := range n {
					out[i] = byte((p.written + int64(i)) % 251)
				}
				k, err := unix.Write(p.b, out[:n])
				if k > 0 {
					p.written += int64(k)
				}
				p.mu.Unlock()
				if err != nil && !errors.Is(err, unix.EAGAIN) {
					t.Errorf("feeder write: %v", err)
					return
				}
				if r.IntN(8) == 0 {
					time.Sleep(time.Duration(r.IntN(100)) * time.Microsecond)
				}
			}
		}()
	}
	// Posters: numbered funcs, in order per poster.
	var posted [posters]atomic.Int64
	ran := make([]int64, posters) // loop only
	for g := range posters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := int64(0); !enough.Load() && time.Now().Before(deadline); seq++ {
				if l.Post(func() {
					if ran[g] != seq {
						fail("poster %d: func %d ran where %d was due", g, seq, ran[g])
					}
					ran[g] = seq + 1
					if !stopOps.Load() && rng.IntN(256) == 0 {
						randomOp()
					}
				}) != nil {
					return
				}
				posted[g].Add(1)
				if seq%64 == 0 {
					time.Sleep(20 * time.Microsecond)
				}
			}
		}()
	}
	wg.Wait()

	// The end: no more random work; every stream read in full with
	// Readable interest and nothing else helping; every post run; every
	// armed timer fired.
	var armed int
	onLoop(t, l, func() {
		stopOps.Store(true)
		unfresh()
		for _, p := range ps {
			if p.reg == nil {
				p.interest = Readable
				register(p)
			} else if err := l.Modify(p.a, Readable); err != nil {
				fail("Modify(%d): %v", p.a, err)
			} else {
				p.interest = Readable
			}
		}
		for _, mt := range timers {
			if mt.armed {
				armed++
			}
		}
	})
	endBy := time.Now().Add(waitLong)
	for {
		var left []string
		onLoop(t, l, func() {
			for i, p := range ps {
				p.mu.Lock()
				if p.read != p.written {
					left = append(left, fmt.Sprintf("stream %d: %d of %d bytes read", i, p.read, p.written))
				}
				p.mu.Unlock()
			}
			for g := range posters {
				if ran[g] != posted[g].Load() {
					left = append(left, fmt.Sprintf("poster %d: %d of %d funcs ran", g, ran[g], posted[g].Load()))
				}
			}
			for _, mt := range timers {
				if mt.armed {
					left = append(left, "a timer armed and not fired")
					break
				}
			}
		})
		if len(left) == 0 {
			break
		}
		if time.Now().After(endBy) {
			t.Fatalf("after the end, without further help: %v", left)
		}
		time.Sleep(time.Millisecond)
	}
	var report string
	var found []string
	onLoop(t, l, func() {
		found = problems
		for _, p := range ps {
			unregister(p)
			p.mu.Lock()
			unix.Close(p.a)
			unix.Close(p.b)
			p.mu.Unlock()
		}
		report = fmt.Sprintf("%d calls (%d Readable, %d Writable), %d modifies, %d re-adds, %d pairs reopened, %d timers fired, %d stopped, %d armed at the end; enough: %v",
			calls, readables, writables, modifies, readds, reopens, timersFired, timersStopped, armed, enough.Load())
	})
	t.Log(report)
	if len(found) > 0 {
		t.Fatalf("seed %d: %d problems, first: %v", seed, len(found), found)
	}
	if !enough.Load() {
		t.Fatalf("seed %d: exercised too little in %v: %s", seed, waitLong, report)
	}
}
