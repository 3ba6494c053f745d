package evloop

import "time"

// portablePoller is the poller and the wake-up of BackendPortable: a
// channel of one slot that Post, Stop and Notifier.Notify signal (at most
// one signal outstanding, see Loop.wakeLocked), and a wait that blocks on
// it up to the timer timeout. It holds no fd: the notified handlers'
// readiness comes through Loop.deliverNotified.
type portablePoller struct {
	wake  chan struct{}
	woke  func()      // the loop's handleWake, run when wait took the signal
	timer *time.Timer // reused by every wait with a timeout (loop only)
}

func newPortablePoller(woke func()) *portablePoller {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &portablePoller{wake: make(chan struct{}, 1), woke: woke, timer: t}
}

func (p *portablePoller) add(int, Events) error            { return ErrNoFD }
func (p *portablePoller) modify(int, Events, Events) error { return ErrNoFD }
func (p *portablePoller) remove(int, Events) error         { return ErrNoFD }

// wait blocks until a signal or timeoutMs (-1: no timeout, 0: do not
// block). It reports no fd: a signal is handled through woke.
func (p *portablePoller) wait(timeoutMs int, buf []readyEvent) ([]readyEvent, error) {
	switch {
	case timeoutMs == 0:
		select {
		case <-p.wake:
			p.woke()
		default:
		}
	case timeoutMs < 0:
		<-p.wake
		p.woke()
	default:
		p.timer.Reset(time.Duration(timeoutMs) * time.Millisecond)
		select {
		case <-p.wake:
			p.woke()
		case <-p.timer.C:
		}
		p.timer.Stop()
	}
	return buf, nil
}

// signal leaves one signal in the channel; the caller (Loop.wakeLocked)
// sends at most one until the loop took it, so it never blocks.
func (p *portablePoller) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// drain does nothing: wait took the signal.
func (p *portablePoller) drain() {}

func (p *portablePoller) close() error {
	p.timer.Stop()
	return nil
}
