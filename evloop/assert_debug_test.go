//go:build lwsdebug

package evloop

import "testing"

func TestAssertInLoop(t *testing.T) {
	l := newLoop(t, Config{})
	l.AssertInLoop() // before Run: no loop goroutine yet
	startLoop(t, l)
	onLoop(t, l, func() { l.AssertInLoop() })
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("AssertInLoop did not panic off the loop goroutine")
			}
		}()
		l.AssertInLoop()
	}()
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("AfterFunc off the loop goroutine did not panic")
			}
		}()
		l.AfterFunc(0, func() {})
	}()
}
