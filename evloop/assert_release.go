//go:build !lwsdebug

package evloop

// AssertInLoop panics off the loop goroutine in lwsdebug builds; here it is a no-op.
func (l *Loop) AssertInLoop() {}

func (l *Loop) enterLoop() {}

func (l *Loop) leaveLoop() {}

func (l *Loop) claimLoop() {}
