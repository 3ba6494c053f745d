package servers

import (
	"errors"
	"net"
	"runtime"
	"sync/atomic"

	"github.com/lws-go/lws/internal/sockio"
	"golang.org/x/sys/unix"
)

func init() { register("raw-epoll", startRawEpoll) }

// rawEpoll is the physical floor: one goroutine locked to its thread
// running a level-triggered epoll loop; each read is written back as it
// is. Bytes the socket does not take are kept and sent on EPOLLOUT. Its
// reads and writes are the cheapest Go can make, the raw syscalls of the
// library's internal/sockio, as our server's are: the floor is what the
// kernel costs, not what the runtime's syscall bookkeeping adds.
type rawEpoll struct {
	lfd, epfd, wfd int
	addr           string
	broadcast      bool
	pending        [][]byte // by fd: unsent bytes
	open           []bool   // by fd: a connection of ours
	fds            []int    // open connections (broadcast only)
	pos            []int    // by fd: index in fds
	stopped        atomic.Bool
	done           chan struct{}
}

func startRawEpoll(o Options) (Server, error) {
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, err
	}
	f, err := ln.(*net.TCPListener).File()
	ln.Close()
	if err != nil {
		return nil, err
	}
	s := &rawEpoll{lfd: int(f.Fd()), addr: ln.Addr().String(), broadcast: o.Broadcast, done: make(chan struct{})}
	// File dups the socket: ours to keep, non-blocking.
	if s.lfd, err = unix.Dup(s.lfd); err != nil {
		f.Close()
		return nil, err
	}
	f.Close()
	if err := unix.SetNonblock(s.lfd, true); err != nil {
		return nil, err
	}
	if s.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return nil, err
	}
	if s.wfd, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		return nil, err
	}
	for _, fd := range []int{s.lfd, s.wfd} {
		if err := unix.EpollCtl(s.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}); err != nil {
			return nil, err
		}
	}
	go s.run()
	return s, nil
}

func (s *rawEpoll) Addr() string { return s.addr }

func (s *rawEpoll) Close() error {
	if !s.stopped.CompareAndSwap(false, true) {
		return errors.New("closed")
	}
	_, _ = unix.Write(s.wfd, []byte{1, 0, 0, 0, 0, 0, 0, 0})
	<-s.done
	return nil
}

func (s *rawEpoll) run() {
	runtime.LockOSThread()
	defer close(s.done)
	events := make([]unix.EpollEvent, 256)
	buf := make([]byte, 64<<10)
	for !s.stopped.Load() {
		n, err := unix.EpollWait(s.epfd, events, -1)
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			return
		}
		for i := 0; i < n; i++ {
			fd := int(events[i].Fd)
			switch fd {
			case s.lfd:
				s.accept()
			case s.wfd:
			default:
				s.serve(fd, events[i].Events, buf)
			}
		}
	}
	for fd, open := range s.open {
		if open {
			unix.Close(fd)
		}
	}
	unix.Close(s.lfd)
	unix.Close(s.epfd)
	unix.Close(s.wfd)
}

func (s *rawEpoll) accept() {
	for {
		fd, _, err := unix.Accept4(s.lfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		if err != nil {
			return
		}
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		if err := unix.EpollCtl(s.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(fd)}); err != nil {
			unix.Close(fd)
			continue
		}
		for len(s.pending) <= fd {
			s.pending = append(s.pending, nil)
			s.pos = append(s.pos, -1)
			s.open = append(s.open, false)
		}
		s.open[fd] = true
		if s.broadcast {
			s.pos[fd] = len(s.fds)
			s.fds = append(s.fds, fd)
		}
	}
}

func (s *rawEpoll) closeConn(fd int) {
	_ = unix.EpollCtl(s.epfd, unix.EPOLL_CTL_DEL, fd, nil)
	unix.Close(fd)
	s.pending[fd] = nil
	s.open[fd] = false
	if i := s.pos[fd]; i >= 0 {
		last := s.fds[len(s.fds)-1]
		s.fds[i] = last
		s.pos[last] = i
		s.fds = s.fds[:len(s.fds)-1]
		s.pos[fd] = -1
	}
}

func (s *rawEpoll) serve(fd int, ev uint32, buf []byte) {
	if ev&unix.EPOLLOUT != 0 && len(s.pending[fd]) > 0 {
		if !s.send(fd, nil) {
			return
		}
	}
	if ev&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) == 0 {
		return
	}
	for {
		n, err := sockio.Read(fd, buf)
		if n <= 0 {
			if err == unix.EAGAIN {
				return
			}
			if err == unix.EINTR {
				continue
			}
			s.closeConn(fd)
			return
		}
		if s.broadcast && IsBroadcast(buf[:n]) {
			for _, d := range s.fds {
				if d != fd {
					_, _ = sockio.Write(d, buf[:n])
				}
			}
		} else if !s.send(fd, buf[:n]) {
			return
		}
		if n < len(buf) {
			return
		}
	}
}

// send writes what is pending for fd and then b; what the socket does not
// take is kept and EPOLLOUT watched. It reports false if fd was closed.
func (s *rawEpoll) send(fd int, b []byte) bool {
	p := s.pending[fd]
	if len(p) > 0 {
		p = append(p, b...)
	} else {
		p = b
	}
	for len(p) > 0 {
		n, err := sockio.Write(fd, p)
		if n > 0 {
			p = p[n:]
			continue
		}
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			break
		}
		s.closeConn(fd)
		return false
	}
	had := len(s.pending[fd]) > 0
	if len(p) > 0 {
		s.pending[fd] = append([]byte(nil), p...)
	} else {
		s.pending[fd] = s.pending[fd][:0]
	}
	if want := len(p) > 0; want != had {
		events := uint32(unix.EPOLLIN | unix.EPOLLRDHUP)
		if want {
			events |= unix.EPOLLOUT
		}
		_ = unix.EpollCtl(s.epfd, unix.EPOLL_CTL_MOD, fd, &unix.EpollEvent{Events: events, Fd: int32(fd)})
	}
	return true
}
