package evloop

import (
	"errors"
	"testing"
	"time"
)

// notifiedLoop is a running BackendPortable loop.
func notifiedLoop(t *testing.T, tab *Table) *Loop {
	t.Helper()
	l := newLoop(t, Config{Backend: BackendPortable, Table: tab})
	startLoop(t, l)
	return l
}

// addNotified registers h on the loop goroutine.
func addNotified(t *testing.T, l *Loop, h Handler, ev Events) Notifier {
	t.Helper()
	var n Notifier
	var err error
	onLoop(t, l, func() { n, err = l.AddNotified(h, ev) })
	if err != nil {
		t.Fatalf("AddNotified: %v", err)
	}
	return n
}

// settle runs a few loop iterations, so that what was notified before is
// delivered if it is deliverable.
func settle(t *testing.T, l *Loop) {
	t.Helper()
	for range 3 {
		onLoop(t, l, func() {})
	}
}

func TestNotifiedDelivery(t *testing.T) {
	l := notifiedLoop(t, nil)
	var loopG int64
	onLoop(t, l, func() { loopG = testGoid() })
	got := make(chan evRecord, 16)
	h := HandlerFunc(func(id int, ev Events) { got <- evRecord{id, ev, testGoid()} })
	n := addNotified(t, l, h, Readable)
	onLoop(t, l, func() {
		if l.Events(n.ID()) != Readable || l.Table().Get(n.ID()) == nil || l.Table().Len() != 1 {
			t.Errorf("after AddNotified: events %v, len %d", l.Events(n.ID()), l.Table().Len())
		}
	})
	go n.Notify(Readable)
	r := wait(t, got, "Readable")
	if r.fd != n.ID() || r.ev != Readable || r.g != loopG {
		t.Fatalf("delivered id %d %v on goroutine %d; want id %d Readable on the loop goroutine %d", r.fd, r.ev, r.g, n.ID(), loopG)
	}
	// Hangup and Error are delivered whatever the interest.
	n.Notify(Hangup | Writable)
	if r := wait(t, got, "Hangup"); r.ev != Hangup {
		t.Fatalf("delivered %v, want Hangup alone (Writable is not of interest)", r.ev)
	}
	settle(t, l)
	if len(got) != 0 {
		t.Fatalf("extra delivery: %v", (<-got).ev)
	}
}

// evRecord is one delivery: id, events, goroutine.
type evRecord struct {
	fd int
	ev Events
	g  int64
}

// TestNotifiedRememberedUntilInterest: a notification outside the interest
// waits, and is delivered once as soon as Modify adds the interest, from a
// handler, a posted func or a timer (after which the loop must not block).
func TestNotifiedRememberedUntilInterest(t *testing.T) {
	for _, from := range []string{"post", "timer", "handler"} {
		t.Run(from, func(t *testing.T) {
			l := notifiedLoop(t, nil)
			got := make(chan Events, 16)
			var n, other Notifier
			h := HandlerFunc(func(id int, ev Events) {
				if id == other.ID() {
					l.Modify(n.ID(), Readable|Writable)
					return
				}
				got <- ev
			})
			n = addNotified(t, l, h, Readable)
			other = addNotified(t, l, h, Readable)
			n.Notify(Writable)
			n.Notify(Writable)
			settle(t, l)
			if len(got) != 0 {
				t.Fatalf("delivered %v outside the interest", <-got)
			}
			switch from {
			case "post":
				onLoop(t, l, func() { l.Modify(n.ID(), Readable|Writable) })
			case "timer":
				onLoop(t, l, func() { l.AfterFunc(0, func() { l.Modify(n.ID(), Readable|Writable) }) })
			case "handler":
				other.Notify(Readable)
			}
			if ev := wait(t, got, "Writable after Modify"); ev != Writable {
				t.Fatalf("delivered %v, want Writable", ev)
			}
			settle(t, l)
			if len(got) != 0 {
				t.Fatalf("two notifications before delivery were delivered twice")
			}
		})
	}
}

// TestNotifiedRemove: after Remove nothing is delivered, and a Notify of the
// old registration never reaches a new one that reuses its id.
func TestNotifiedRemove(t *testing.T) {
	l := notifiedLoop(t, NewTable(1))
	got := make(chan string, 16)
	old := addNotified(t, l, HandlerFunc(func(int, Events) { got <- "old" }), Readable)
	onLoop(t, l, func() {
		old.Notify(Readable) // queued before Remove, taken after it
		if err := l.Remove(old.ID()); err != nil {
			t.Errorf("Remove: %v", err)
		}
		if err := l.Remove(old.ID()); !errors.Is(err, ErrNotRegistered) {
			t.Errorf("second Remove: %v, want ErrNotRegistered", err)
		}
		if l.Table().Len() != 0 || l.Events(old.ID()) != 0 {
			t.Errorf("slot not freed")
		}
	})
	settle(t, l)
	cur := addNotified(t, l, HandlerFunc(func(int, Events) { got <- "new" }), Readable)
	if cur.ID() != old.ID() {
		t.Fatalf("the one-slot table gave id %d, then %d", old.ID(), cur.ID())
	}
	old.Notify(Readable)
	settle(t, l)
	if len(got) != 0 {
		t.Fatalf("delivery to %s after Remove or through a stale Notifier", <-got)
	}
	cur.Notify(Readable)
	if who := wait(t, got, "delivery"); who != "new" {
		t.Fatalf("delivered to %s", who)
	}
	onLoop(t, l, func() {
		if _, err := l.AddNotified(HandlerFunc(func(int, Events) {}), Readable); !errors.Is(err, ErrTableFull) {
			t.Errorf("AddNotified on a full table: %v, want ErrTableFull", err)
		}
	})
}

func TestPortableConfig(t *testing.T) {
	l := newLoop(t, Config{Backend: BackendPortable})
	h := HandlerFunc(func(int, Events) {})
	if err := l.Add(0, h, Readable); !errors.Is(err, ErrNoFD) {
		t.Errorf("Add of an fd: %v, want ErrNoFD", err)
	}
	if _, err := l.AddNotified(nil, Readable); !errors.Is(err, ErrBadFD) {
		t.Errorf("AddNotified(nil): %v, want ErrBadFD", err)
	}
	if l.WakeFD() != -1 {
		t.Errorf("WakeFD = %d, want -1", l.WakeFD())
	}
	n, err := l.AddNotified(h, Readable)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if l.Table().Len() != 0 {
		t.Errorf("Close left %d slots taken", l.Table().Len())
	}
	n.Notify(Readable) // no effect, no panic
	Notifier{}.Notify(Readable)
	if err := l.Post(func() {}); !errors.Is(err, ErrClosed) {
		t.Errorf("Post after Close: %v", err)
	}

	for _, bad := range []Config{
		{Backend: BackendPortable, External: &External{}},
		{Backend: BackendPortable + 1},
	} {
		if l, err := New(bad); err == nil {
			l.Close()
			t.Errorf("New(%+v) succeeded", bad)
		}
	}
	for _, bk := range fdBackends {
		l := newLoop(t, Config{Backend: bk})
		if _, err := l.AddNotified(h, Readable); !errors.Is(err, ErrNotPortable) {
			t.Errorf("%v: AddNotified: %v, want ErrNotPortable", bk, err)
		}
		l.Close()
	}
}

// TestPortableWaitTimeout: the loop sleeps until the next timer, and a
// Notify from another goroutine wakes it from a wait with no timer.
func TestPortableWaitTimeout(t *testing.T) {
	l := notifiedLoop(t, nil)
	start := time.Now()
	fired := make(chan time.Duration, 1)
	onLoop(t, l, func() { l.AfterFunc(20*time.Millisecond, func() { fired <- time.Since(start) }) })
	if d := wait(t, fired, "timer"); d < 20*time.Millisecond {
		t.Fatalf("timer fired after %v, before its 20ms", d)
	}
	got := make(chan Events, 1)
	n := addNotified(t, l, HandlerFunc(func(_ int, ev Events) { got <- ev }), Writable)
	settle(t, l) // the loop now blocks with no timeout
	go n.Notify(Writable)
	wait(t, got, "delivery that had to wake the loop")
}
