//go:build lwsdebug

package evloop

import "fmt"

// AssertInLoop panics when called off the loop goroutine (lwsdebug builds).
// Before Run starts (and outside Run, unless external-poll mode claimed a
// goroutine) there is no loop goroutine and it passes.
func (l *Loop) AssertInLoop() {
	g := l.gid.Load()
	if g == 0 {
		return
	}
	if cur := goid(); cur != g {
		panic(fmt.Sprintf("evloop: called on goroutine %d, loop goroutine is %d", cur, g))
	}
}

// enterLoop records the goroutine running Run.
func (l *Loop) enterLoop() { l.gid.Store(goid()) }

// leaveLoop forgets it when Run returns.
func (l *Loop) leaveLoop() { l.gid.Store(0) }

// claimLoop makes the first goroutine calling ServiceFD / ServiceTimers the
// loop goroutine (external-poll mode), and asserts it afterwards.
func (l *Loop) claimLoop() {
	if l.gid.CompareAndSwap(0, goid()) {
		return
	}
	l.AssertInLoop()
}
