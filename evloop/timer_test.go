package evloop

import (
	"testing"
	"time"
)

func TestTimersOrder(t *testing.T) {
	for _, bk := range allBackends {
		t.Run(bk.String(), func(t *testing.T) {
			l := newLoop(t, Config{Backend: bk})
			var order []int // loop only
			done := make(chan struct{})
			start := time.Now()
			for _, ms := range []int{30, 10, 20, 0, 25, 5} {
				l.AfterFunc(time.Duration(ms)*time.Millisecond, func() {
					if since := time.Since(start); since < time.Duration(ms)*time.Millisecond {
						t.Errorf("timer %d ms fired after %v", ms, since)
					}
					order = append(order, ms)
				})
			}
			stopped := l.AfterFunc(15*time.Millisecond, func() { order = append(order, -15) })
			if !stopped.Stop() {
				t.Fatal("Stop of an armed timer returned false")
			}
			if stopped.Stop() {
				t.Fatal("second Stop returned true")
			}
			moved := l.AfterFunc(time.Hour, func() { order = append(order, 12) })
			moved.Reset(12 * time.Millisecond)
			later := l.AfterFunc(time.Millisecond, func() { order = append(order, 40) })
			later.Reset(40 * time.Millisecond)
			l.AfterFunc(50*time.Millisecond, func() { close(done) })
			startLoop(t, l)
			wait(t, done, "timers")
			onLoop(t, l, func() {
				want := []int{0, 5, 10, 12, 20, 25, 30, 40}
				if len(order) != len(want) {
					t.Fatalf("order %v, want %v", order, want)
				}
				for i := range want {
					if order[i] != want[i] {
						t.Fatalf("order %v, want %v", order, want)
					}
				}
				if moved.Stop() {
					t.Error("Stop after firing returned true")
				}
			})
		})
	}
}

func TestTimerResetFromCallback(t *testing.T) {
	for _, bk := range allBackends {
		t.Run(bk.String(), func(t *testing.T) {
			l := newLoop(t, Config{Backend: bk})
			n := 0
			done := make(chan struct{})
			var tm *Timer
			tm = l.AfterFunc(0, func() {
				n++
				if n == 5 {
					close(done)
					return
				}
				tm.Reset(0) // must not spin inside one timer phase
			})
			startLoop(t, l)
			wait(t, done, "re-armed timer")
		})
	}
}

func TestNowCached(t *testing.T) {
	for _, bk := range allBackends {
		t.Run(bk.String(), func(t *testing.T) {
			l := newLoop(t, Config{Backend: bk})
			startLoop(t, l)
			onLoop(t, l, func() {
				a := l.Now()
				for t0 := time.Now(); time.Now().Equal(t0); {
				} // let the clock move
				if b := l.Now(); !a.Equal(b) {
					t.Errorf("Now changed within one iteration: %v -> %v", a, b)
				}
			})
			var first time.Time
			onLoop(t, l, func() { first = l.Now() })
			l.Post(func() {})
			onLoop(t, l, func() {
				if !l.Now().After(first) && !l.Now().Equal(first) {
					t.Errorf("Now went backwards")
				}
			})
		})
	}
}

func TestWaitTimeout(t *testing.T) {
	for _, bk := range allBackends {
		t.Run(bk.String(), func(t *testing.T) {
			l := newLoop(t, Config{Backend: bk})
			defer l.Close()
			if ms := l.waitTimeoutMs(); ms != -1 {
				t.Fatalf("no timers: %d, want -1", ms)
			}
			tm := l.AfterFunc(1500*time.Microsecond, func() {})
			if ms := l.waitTimeoutMs(); ms < 1 || ms > 2 {
				t.Fatalf("1.5ms timer: %d ms, want 1..2 (rounded up)", ms)
			}
			tm.Reset(-time.Second)
			if ms := l.waitTimeoutMs(); ms != 0 {
				t.Fatalf("due timer: %d, want 0", ms)
			}
			tm.Stop()
			if d := l.NextTimeout(); d != -1 {
				t.Fatalf("NextTimeout without timers: %v", d)
			}
			l.Post(func() {})
			if d := l.NextTimeout(); d != 0 {
				t.Fatalf("NextTimeout with posted work: %v", d)
			}
		})
	}
}

func TestTimerHeapRandom(t *testing.T) {
	l := newLoop(t, Config{})
	defer l.Close()
	var ts []*Timer
	for i := range 200 {
		d := time.Duration((i*7919)%1000) * time.Millisecond
		ts = append(ts, l.AfterFunc(d+time.Hour, func() {}))
	}
	for i, tm := range ts {
		switch i % 3 {
		case 0:
			tm.Stop()
		case 1:
			tm.Reset(time.Duration((i*31)%500)*time.Millisecond + time.Hour)
		}
	}
	h := l.timers
	for i := range h {
		if h[i].idx != i {
			t.Fatalf("idx %d at %d", h[i].idx, i)
		}
		if i > 0 && h.less(i, (i-1)/2) {
			t.Fatalf("heap order broken at %d", i)
		}
	}
	var last int64 = -1
	for len(l.timers) > 0 {
		w := l.timers[0].when
		if w < last {
			t.Fatalf("popped out of order")
		}
		last = w
		l.timers.remove(0)
	}
}
