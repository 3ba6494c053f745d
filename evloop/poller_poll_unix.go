//go:build unix

package evloop

import "golang.org/x/sys/unix"

// pollPoller keeps a pollfd slice and an fd -> index map; removal swaps the
// last entry into the hole.
type pollPoller struct {
	fds []unix.PollFd
	idx map[int32]int
}

func newPollPoller() *pollPoller {
	return &pollPoller{idx: make(map[int32]int)}
}

func (p *pollPoller) add(fd int, ev Events) error {
	if _, ok := p.idx[int32(fd)]; ok {
		return ErrExists
	}
	p.idx[int32(fd)] = len(p.fds)
	p.fds = append(p.fds, unix.PollFd{Fd: int32(fd), Events: EventsToPoll(ev)})
	return nil
}

func (p *pollPoller) modify(fd int, _, ev Events) error {
	i, ok := p.idx[int32(fd)]
	if !ok {
		return ErrNotRegistered
	}
	p.fds[i].Events = EventsToPoll(ev)
	return nil
}

func (p *pollPoller) remove(fd int, _ Events) error {
	i, ok := p.idx[int32(fd)]
	if !ok {
		return ErrNotRegistered
	}
	last := len(p.fds) - 1
	if i != last {
		p.fds[i] = p.fds[last]
		p.idx[p.fds[i].Fd] = i
	}
	p.fds = p.fds[:last]
	delete(p.idx, int32(fd))
	return nil
}

func (p *pollPoller) wait(timeoutMs int, buf []readyEvent) ([]readyEvent, error) {
	n, err := unix.Poll(p.fds, timeoutMs)
	if err == unix.EINTR {
		return buf, nil // an empty batch: the loop waits again
	}
	if err != nil {
		return buf, err
	}
	for i := 0; i < len(p.fds) && n > 0; i++ {
		pf := &p.fds[i]
		if pf.Revents == 0 {
			continue
		}
		n--
		buf = append(buf, readyEvent{fd: pf.Fd, ev: PollToEvents(pf.Revents)})
		pf.Revents = 0
	}
	return buf, nil
}

func (p *pollPoller) close() error {
	p.fds = nil
	p.idx = nil
	return nil
}
