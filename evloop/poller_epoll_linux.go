//go:build linux

package evloop

import (
	"github.com/lws-go/lws/internal/sockio"
	"golang.org/x/sys/unix"
)

const (
	epollInitEvents = 128
	epollMaxEvents  = 4096
)

// EventsToEpoll converts the interest in ev to epoll event bits:
// EPOLLIN|EPOLLRDHUP for Readable, EPOLLOUT for Writable (level-triggered).
func EventsToEpoll(ev Events) uint32 {
	return eventsToBits[uint32](ev, unix.EPOLLIN|unix.EPOLLRDHUP, unix.EPOLLOUT)
}

// EpollToEvents converts epoll revents to Events.
func EpollToEvents(e uint32) Events {
	return bitsToEvents[uint32](e, unix.EPOLLIN|unix.EPOLLPRI, unix.EPOLLOUT, unix.EPOLLRDHUP|unix.EPOLLHUP, unix.EPOLLERR)
}

type epollPoller struct {
	epfd   int
	events []unix.EpollEvent // reused by every wait
	busy   bool              // the last wait found more than one fd ready
}

func newEpollPoller() (*epollPoller, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return &epollPoller{epfd: fd, events: make([]unix.EpollEvent, epollInitEvents)}, nil
}

func (p *epollPoller) fd() int { return p.epfd }

func (p *epollPoller) ctl(op, fd int, ev Events) error {
	e := unix.EpollEvent{Events: EventsToEpoll(ev), Fd: int32(fd)}
	return unix.EpollCtl(p.epfd, op, fd, &e)
}

func (p *epollPoller) add(fd int, ev Events) error { return p.ctl(unix.EPOLL_CTL_ADD, fd, ev) }

func (p *epollPoller) modify(fd int, _, ev Events) error { return p.ctl(unix.EPOLL_CTL_MOD, fd, ev) }

func (p *epollPoller) remove(fd int, _ Events) error {
	err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, nil)
	if err == unix.ENOENT || err == unix.EBADF {
		// Already closed by the user: the kernel dropped it.
		return nil
	}
	return err
}

// wait collects ready fds. A busy loop (the last wait found several fds
// ready) first polls without blocking through the raw path, which skips
// the runtime's bookkeeping for a call that may block (internal/sockio);
// only when nothing is ready does it make the blocking call. A loop that
// finds one fd at a time blocks at once, as its next event is not there
// yet.
func (p *epollPoller) wait(timeoutMs int, buf []readyEvent) ([]readyEvent, error) {
	var (
		n   int
		err error
	)
	if p.busy || timeoutMs == 0 {
		n, err = sockio.EpollWaitNow(p.epfd, p.events)
	}
	if n == 0 && err == nil && timeoutMs != 0 {
		n, err = unix.EpollWait(p.epfd, p.events, timeoutMs)
	}
	if err != nil {
		p.busy = false
		if err == unix.EINTR {
			return buf, nil // an empty batch: the loop waits again
		}
		return buf, err
	}
	p.busy = n > 1
	for i := range n {
		e := &p.events[i]
		buf = append(buf, readyEvent{fd: e.Fd, ev: EpollToEvents(e.Events)})
	}
	if n == len(p.events) && n < epollMaxEvents {
		p.events = make([]unix.EpollEvent, 2*n)
	}
	return buf, nil
}

func (p *epollPoller) close() error {
	if p.epfd < 0 {
		return nil
	}
	err := unix.Close(p.epfd)
	p.epfd = -1
	return err
}
