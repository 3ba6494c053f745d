//go:build unix

package evloop

import (
	"testing"

	"golang.org/x/sys/unix"
)

// epollUser is the user's own epoll instance.
type epollUser struct {
	t    *testing.T
	epfd int
	reg  map[int]bool
	evs  [16]unix.EpollEvent
}

func (p *epollUser) set(fd int, ev Events) {
	e := unix.EpollEvent{Events: EventsToEpoll(ev), Fd: int32(fd)}
	op := unix.EPOLL_CTL_MOD
	if !p.reg[fd] {
		op = unix.EPOLL_CTL_ADD
		p.reg[fd] = true
	}
	if err := unix.EpollCtl(p.epfd, op, fd, &e); err != nil {
		p.t.Errorf("epoll_ctl(%d): %v", fd, err)
	}
}

func (p *epollUser) del(fd int) {
	delete(p.reg, fd)
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, nil); err != nil {
		p.t.Errorf("epoll_ctl DEL(%d): %v", fd, err)
	}
}

func (p *epollUser) wait(ms int) []readyEvent {
	n, err := unix.EpollWait(p.epfd, p.evs[:], ms)
	if err != nil || n <= 0 {
		return nil
	}
	out := make([]readyEvent, n)
	for i := range n {
		out[i] = readyEvent{fd: p.evs[i].Fd, ev: EpollToEvents(p.evs[i].Events)}
	}
	return out
}

func (p *epollUser) close() { unix.Close(p.epfd) }

func TestExternalEpoll(t *testing.T) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	testExternal(t, &epollUser{t: t, epfd: epfd, reg: map[int]bool{}})
}
