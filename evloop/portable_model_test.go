package evloop

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// modelReg is one registration of the model test. Each of its two events
// (Readable, Writable) has at most one notification outstanding: a notifier
// sets out[b] before Notify, the delivery of b clears it. The loop never
// delivers spuriously, so a delivery of b with out[b] clear is a delivery
// that no Notify of this registration asked for (a stale Notify of a removed
// registration reaching a new one under the same id, say).
type modelReg struct {
	n       Notifier
	out     [2]atomic.Bool
	removed atomic.Bool // set on the loop goroutine right after Remove
}

var modelBits = [2]Events{Readable, Writable}

// modelSeed is EVLOOP_MODEL_SEED, else a fresh seed; it logs the seed and
// how to repeat it.
func modelSeed(t *testing.T) uint64 {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("EVLOOP_MODEL_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("EVLOOP_MODEL_SEED: %v", err)
		}
		seed = v
	}
	t.Logf("seed %d (set EVLOOP_MODEL_SEED to repeat the loop's choices)", seed)
	return seed
}

// TestNotifiedModel: goroutines notify random registrations (live and
// removed ones) while the loop adds, modifies and removes registrations at
// random from timers, posted funcs and handlers, on a table small enough
// that ids are reused all the time. The oracle checks every delivery: the
// id is registered and is the registration's, the events are within its
// interest, and each was notified to this registration and not delivered
// yet. At the end every live registration gets full interest, and every
// notification still outstanding must be delivered without further help:
// none lost, no wake-up lost.
func TestNotifiedModel(t *testing.T) {
	seed := modelSeed(t)
	const (
		tableSize = 24
		notifiers = 6
		perNotify = 4000
	)
	l := notifiedLoop(t, NewTable(tableSize))
	rng := rand.New(rand.NewPCG(seed, 1)) // loop goroutine only

	var (
		regsMu sync.Mutex
		regs   []*modelReg // every registration made, removed ones included
	)
	live := map[int]*modelReg{} // id -> registration (loop only)
	var problems []string       // loop only
	fail := func(format string, args ...any) {
		if len(problems) < 10 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	var deliveries, stale, removes, modifies, adds, tableFull int // loop only
	randInterest := func() Events { return Events(rng.IntN(4)) }

	var stopOps atomic.Bool // the end: no more random ops
	// enough is set by the loop once the run has exercised every kind of
	// operation as much as the end asks; the notifiers go on until then,
	// however the scheduler spreads the work.
	var enough atomic.Bool
	var staleCalls atomic.Int64
	const minDeliveries, minOps = 1000, 100
	var add func()
	remove := func(r *modelReg) {
		if err := l.Remove(r.n.ID()); err != nil {
			fail("Remove(%d): %v", r.n.ID(), err)
		}
		r.removed.Store(true)
		delete(live, r.n.ID())
		removes++
	}
	randomLive := func() *modelReg {
		if len(live) == 0 {
			return nil
		}
		k := rng.IntN(len(live))
		for _, r := range live {
			if k == 0 {
				return r
			}
			k--
		}
		return nil
	}
	randomOp := func() {
		switch op := rng.IntN(10); {
		case op < 3:
			add()
		case op < 5:
			if r := randomLive(); r != nil {
				remove(r)
			}
		default:
			if r := randomLive(); r != nil {
				if err := l.Modify(r.n.ID(), randInterest()); err != nil {
					fail("Modify(%d): %v", r.n.ID(), err)
				}
				modifies++
			}
		}
	}
	add = func() {
		r := &modelReg{}
		h := HandlerFunc(func(id int, ev Events) {
			deliveries++
			switch {
			case r.removed.Load():
				fail("delivery of %v to removed registration %d", ev, id)
				return
			case live[id] != r || id != r.n.ID():
				fail("delivery to id %d, not the registration's (%d)", id, r.n.ID())
				return
			case ev == 0 || ev&^l.Events(id) != 0:
				fail("delivery of %v to id %d, interest %v", ev, id, l.Events(id))
			}
			for b, bit := range modelBits {
				if ev&bit != 0 && !r.out[b].CompareAndSwap(true, false) {
					fail("delivery of %v to id %d that no Notify of its registration asks for", bit, id)
				}
			}
			if !stopOps.Load() && rng.IntN(3) == 0 {
				randomOp()
			}
		})
		n, err := l.AddNotified(h, randInterest())
		if err == ErrTableFull {
			tableFull++
			return
		}
		if err != nil {
			fail("AddNotified: %v", err)
			return
		}
		r.n = n
		if live[n.ID()] != nil {
			fail("id %d handed out twice", n.ID())
		}
		live[n.ID()] = r
		adds++
		regsMu.Lock()
		regs = append(regs, r)
		regsMu.Unlock()
	}

	// The loop's own random work: a timer chain and a poster.
	var tick func()
	tick = func() {
		if stopOps.Load() {
			return
		}
		for range rng.IntN(4) {
			randomOp()
		}
		if deliveries >= minDeliveries && removes >= minOps && modifies >= minOps && staleCalls.Load() >= minOps {
			enough.Store(true)
		}
		l.AfterFunc(time.Duration(rng.IntN(300))*time.Microsecond, tick)
	}
	onLoop(t, l, func() {
		for range tableSize / 2 {
			add()
		}
		tick()
	})
	posterDone := make(chan struct{})
	go func() {
		defer close(posterDone)
		for !stopOps.Load() {
			if l.Post(func() {
				if !stopOps.Load() {
					randomOp()
				}
			}) != nil {
				return
			}
			time.Sleep(50 * time.Microsecond)
		}
	}()

	var wg sync.WaitGroup
	notifyUntil := time.Now().Add(waitLong)
	for g := range notifiers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nr := rand.New(rand.NewPCG(seed, uint64(g)+2))
			for i := 0; i < perNotify || !enough.Load() && time.Now().Before(notifyUntil); i++ {
				regsMu.Lock()
				i := nr.IntN(len(regs)) // mostly one of the latest: likely live
				if nr.IntN(4) != 0 {
					i = max(0, len(regs)-1-nr.IntN(2*tableSize))
				}
				r := regs[i]
				regsMu.Unlock()
				b := nr.IntN(2)
				switch {
				case r.removed.Load():
					staleCalls.Add(1)
					r.n.Notify(modelBits[b])
				case r.out[b].CompareAndSwap(false, true):
					r.n.Notify(modelBits[b])
				}
				if nr.IntN(64) == 0 {
					time.Sleep(time.Duration(nr.IntN(200)) * time.Microsecond)
				}
			}
		}()
	}
	wg.Wait()
	stopOps.Store(true)
	<-posterDone

	// Every Notify has returned. Full interest for the live registrations;
	// what is outstanding must now arrive by itself.
	onLoop(t, l, func() {
		for id := range live {
			if err := l.Modify(id, Readable|Writable); err != nil {
				fail("Modify(%d): %v", id, err)
			}
		}
	})
	outstanding := func() (n int, desc string) {
		regsMu.Lock()
		defer regsMu.Unlock()
		for _, r := range regs {
			if r.removed.Load() {
				continue
			}
			for b := range modelBits {
				if r.out[b].Load() {
					n++
					desc = fmt.Sprintf("id %d %v", r.n.ID(), modelBits[b])
				}
			}
		}
		return n, desc
	}
	deadline := time.Now().Add(waitLong)
	for {
		n, desc := outstanding()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			onLoop(t, l, func() {
				for _, p := range problems {
					t.Error(p)
				}
			})
			t.Fatalf("%d notifications never delivered, e.g. %s", n, desc)
		}
		time.Sleep(time.Millisecond)
	}
	onLoop(t, l, func() {
		stale = int(staleCalls.Load())
		t.Logf("%d deliveries, %d adds (%d refused: table full), %d removes, %d modifies, %d stale notifies", deliveries, adds, tableFull, removes, modifies, stale)
		for _, p := range problems {
			t.Error(p)
		}
		if deliveries < minDeliveries || removes < minOps || stale < minOps || modifies < minOps {
			t.Errorf("the run exercised too little")
		}
	})
}
