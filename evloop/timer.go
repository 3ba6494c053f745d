package evloop

import "time"

// Timer is a one-shot timer serviced by its loop. Create it with
// Loop.AfterFunc; Stop and Reset it on the loop goroutine.
type Timer struct {
	l    *Loop
	f    func()
	when int64  // deadline, ns since l.base
	seq  uint64 // l.timerSeq when armed
	idx  int    // index in the heap, -1 when not armed
}

// AfterFunc arranges for f to run on the loop goroutine once d has elapsed.
// Call it on the loop goroutine (or before Run). No goroutine is created.
func (l *Loop) AfterFunc(d time.Duration, f func()) *Timer {
	l.AssertInLoop()
	t := &Timer{l: l, f: f, idx: -1}
	l.arm(t, d)
	return t
}

func (l *Loop) arm(t *Timer, d time.Duration) {
	if d < 0 {
		d = 0
	}
	t.when = int64(time.Since(l.base)) + int64(d)
	t.seq = l.timerSeq
	if t.idx >= 0 {
		l.timers.fix(t.idx)
	} else {
		l.timers.push(t)
	}
}

// Stop prevents the timer from firing. It reports whether the timer was
// armed (false if it already fired or was stopped).
func (t *Timer) Stop() bool {
	t.l.AssertInLoop()
	if t.idx < 0 {
		return false
	}
	t.l.timers.remove(t.idx)
	return true
}

// Reset re-arms the timer to fire d from now, whether or not it was armed,
// fired or stopped.
func (t *Timer) Reset(d time.Duration) {
	t.l.AssertInLoop()
	t.l.arm(t, d)
}

// runTimers runs the timers due at the cached time. Timers armed while they
// run (even with a zero delay) wait for the next iteration.
func (l *Loop) runTimers() {
	l.timerSeq++
	cur := l.timerSeq
	for len(l.timers) > 0 {
		t := l.timers[0]
		if t.when > l.nowMono || t.seq == cur {
			return
		}
		l.timers.remove(0)
		t.f()
	}
}

// timerHeap is a binary min-heap on when; each Timer knows its index.
type timerHeap []*Timer

func (h timerHeap) less(i, j int) bool { return h[i].when < h[j].when }

func (h timerHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx = i
	h[j].idx = j
}

func (h timerHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h.swap(i, p)
		i = p
	}
}

func (h timerHeap) down(i int) bool {
	start := i
	n := len(h)
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && h.less(r, c) {
			c = r
		}
		if !h.less(c, i) {
			break
		}
		h.swap(i, c)
		i = c
	}
	return i > start
}

func (h *timerHeap) push(t *Timer) {
	t.idx = len(*h)
	*h = append(*h, t)
	h.up(t.idx)
}

func (h *timerHeap) fix(i int) {
	if !h.down(i) {
		h.up(i)
	}
}

func (h *timerHeap) remove(i int) {
	old := *h
	last := len(old) - 1
	t := old[i]
	if i != last {
		old.swap(i, last)
	}
	old[last] = nil
	*h = old[:last]
	if i != last {
		h.fix(i)
	}
	t.idx = -1
}
