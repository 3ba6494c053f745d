//go:build unix

package lws_test

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/evloop"
	"github.com/lws-go/lws/wsproto"
	"golang.org/x/sys/unix"
)

// foreignEpoll is a user's own epoll loop driving a Service through the
// external-poll notifications. It checks every notification against the
// kernel's view: an Add is for an open fd not yet watched, a Delete comes
// while the fd is still open (before it is closed), SetMode adds only bits
// not set, ClearMode clears only bits set. reg is what the service asked
// to watch; it is touched only on the loop goroutine.
type foreignEpoll struct {
	t    *testing.T
	epfd int
	reg  map[int]evloop.Events

	adds, deletes, sets, clears int
	setModes                    atomic.Int64 // sets, readable off the loop
}

func fdOpen(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err == nil
}

func (p *foreignEpoll) ctl(op, fd int, ev evloop.Events) {
	e := unix.EpollEvent{Events: evloop.EventsToEpoll(ev), Fd: int32(fd)}
	if err := unix.EpollCtl(p.epfd, op, fd, &e); err != nil {
		p.t.Errorf("epoll_ctl(%d, fd %d, %v): %v", op, fd, ev, err)
	}
}

func (p *foreignEpoll) notifications() *evloop.External {
	return &evloop.External{
		Add: func(fd int, ev evloop.Events) {
			p.adds++
			if _, ok := p.reg[fd]; ok {
				p.t.Errorf("Add of fd %d, already watched", fd)
			}
			if !fdOpen(fd) {
				p.t.Errorf("Add of fd %d, which is not open", fd)
			}
			p.reg[fd] = ev
			p.ctl(unix.EPOLL_CTL_ADD, fd, ev)
		},
		Delete: func(fd int, ev evloop.Events) {
			p.deletes++
			old, ok := p.reg[fd]
			if !ok {
				p.t.Errorf("Delete of fd %d, not watched", fd)
				return
			}
			if ev != old {
				p.t.Errorf("Delete of fd %d says %v, it was watched for %v", fd, ev, old)
			}
			if !fdOpen(fd) {
				p.t.Errorf("Delete of fd %d after it was closed", fd)
			}
			delete(p.reg, fd)
			if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, nil); err != nil {
				p.t.Errorf("epoll_ctl DEL fd %d: %v", fd, err)
			}
		},
		SetMode: func(fd int, ev evloop.Events) {
			p.sets++
			p.setModes.Add(1)
			old, ok := p.reg[fd]
			if !ok || old&ev != 0 {
				p.t.Errorf("SetMode(fd %d, %v): watched %v %v", fd, ev, ok, old)
			}
			p.reg[fd] = old | ev
			p.ctl(unix.EPOLL_CTL_MOD, fd, old|ev)
		},
		ClearMode: func(fd int, ev evloop.Events) {
			p.clears++
			old, ok := p.reg[fd]
			if !ok || old&ev != ev {
				p.t.Errorf("ClearMode(fd %d, %v): watched %v %v", fd, ev, ok, old)
			}
			p.reg[fd] = old &^ ev
			p.ctl(unix.EPOLL_CTL_MOD, fd, old&^ev)
		},
	}
}

// run is the user's loop: wait no longer than the service's next timer,
// hand each ready fd to ServiceFD, until stop; then it closes the service
// from this goroutine.
func (p *foreignEpoll) run(svc *lws.Service, stop *atomic.Bool) {
	defer svc.Close()
	var evs [64]unix.EpollEvent
	for !stop.Load() {
		timeout := -1
		if d := svc.NextTimeout(); d >= 0 {
			timeout = int((d + time.Millisecond - 1) / time.Millisecond)
		}
		n, err := unix.EpollWait(p.epfd, evs[:], timeout)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			p.t.Errorf("epoll_wait: %v", err)
			return
		}
		if n == 0 {
			svc.ServiceTimers()
			continue
		}
		for _, e := range evs[:n] {
			svc.ServiceFD(int(e.Fd), evloop.EpollToEvents(e.Events))
		}
	}
}

// openFDs lists /proc/self/fd with each link's target.
func openFDs(t *testing.T) map[int]string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("reading /proc/self/fd: %v", err)
	}
	fds := map[int]string{}
	for _, e := range ents {
		fd, _ := strconv.Atoi(e.Name())
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil {
			fds[fd] = target
		}
	}
	return fds
}

// TestExternalEpollNoLeaks drives a service from a foreign epoll loop
// written here while 1,000 connections come and go (WebSocket echo closed
// by either side or dropped, and plain HTTP requests). Every notification
// must match the descriptors really open, and at the end the watched set
// is exactly the listener and the wake-up eventfd, every descriptor the
// connections used is closed and none leaked, and Close reports both
// deleted.
func TestExternalEpollNoLeaks(t *testing.T) {
	const conns, workers = 1000, 20
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(epfd)
	p := &foreignEpoll{t: t, epfd: epfd, reg: map[int]evloop.Events{}}

	// Warm up the Go runtime's own poller so its descriptors are there
	// before the first snapshot.
	if ln, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		c, _ := net.Dial("tcp", ln.Addr().String())
		c.Close()
		ln.Close()
	}
	before := openFDs(t)

	echo := &lws.Protocol{
		Name:       "echo",
		Reassemble: true,
		OnReceive: func(c *lws.Conn, msg []byte) {
			switch string(msg) {
			case "close please":
				c.Close(wsproto.CloseNormal, "as asked")
				return
			case "big please": // fills the socket: Writable is watched, then not
				c.Send(make([]byte, bigReply), lws.WriteBinary)
				return
			}
			c.Write(msg, lws.WriteText)
		},
	}
	svc, err := lws.New(lws.Config{Addr: "127.0.0.1:0", Protocols: []*lws.Protocol{echo}, External: p.notifications()})
	if err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		p.run(svc, &stop)
	}()
	stopLoop := func() {
		stop.Store(true)
		svc.Post(func() {}) // wakes epoll_wait through the wake-up fd
		<-loopDone
	}
	defer func() {
		if !stop.Load() {
			stopLoop()
		}
	}()

	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < conns; i += workers {
				if err := oneConnection(svc, i, &p.setModes); err != nil {
					errs <- fmt.Errorf("connection %d: %w", i, err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for svc.Connections() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // polling for the lingering closes to end
	}
	if n := svc.Connections(); n != 0 {
		t.Fatalf("%d connections still open 30s after the clients finished", n)
	}

	// Snapshot the watched set on the loop goroutine.
	type snap struct {
		reg                         map[int]evloop.Events
		adds, deletes, sets, clears int
	}
	ch := make(chan snap, 1)
	svc.Post(func() {
		r := map[int]evloop.Events{}
		for fd, ev := range p.reg {
			r[fd] = ev
		}
		ch <- snap{r, p.adds, p.deletes, p.sets, p.clears}
	})
	s := <-ch
	after := openFDs(t)

	if len(s.reg) != 2 {
		t.Errorf("watched after all connections closed: %v, want the listener and the wake-up fd", s.reg)
	}
	listener, wake := -1, -1
	for fd := range s.reg {
		switch target := after[fd]; {
		case strings.HasPrefix(target, "socket:"):
			listener = fd
		case target == "anon_inode:[eventfd]":
			wake = fd
		default:
			t.Errorf("watched fd %d is %q", fd, target)
		}
	}
	if listener < 0 || wake < 0 {
		t.Errorf("watched set %v lacks the listener or the eventfd", s.reg)
	}
	if s.adds-s.deletes != len(s.reg) || s.adds < conns+2 || s.sets == 0 || s.sets != s.clears {
		t.Errorf("%d Adds, %d Deletes, %d SetModes, %d ClearModes for %d watched fds and %d connections", s.adds, s.deletes, s.sets, s.clears, len(s.reg), conns)
	}
	// Nothing new is open but the service's two fds (the test's epoll fd
	// predates the snapshot before).
	for fd, target := range after {
		if _, ok := before[fd]; ok {
			continue
		}
		if fd != listener && fd != wake {
			t.Errorf("fd %d (%s) leaked", fd, target)
		}
	}

	stopLoop() // the loop closes the service from its goroutine as it ends
	if len(p.reg) != 0 {
		t.Errorf("after Close still watched: %v", p.reg)
	}
	for fd := range s.reg {
		if fdOpen(fd) && openFDs(t)[fd] == after[fd] {
			t.Errorf("fd %d (%s) still open after Close", fd, after[fd])
		}
	}
	t.Logf("%d connections; notifications: %d Add, %d Delete, %d SetMode, %d ClearMode", conns, s.adds, s.deletes, s.sets, s.clears)
}

// oneConnection is one of the test's clients; i picks how it ends.
// setModes counts SetMode notifications.
func oneConnection(svc *lws.Service, i int, setModes *atomic.Int64) error {
	if i%10 == 9 { // plain HTTP: 404
		c, err := net.DialTimeout("tcp", svc.Addr().String(), 10*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		fmt.Fprintf(c, "GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		buf := make([]byte, 12)
		if _, err := c.Read(buf); err != nil || string(buf[:12]) != "HTTP/1.1 404" {
			return fmt.Errorf("HTTP answer %q: %v", buf, err)
		}
		return nil
	}
	rcvbuf := 0
	if i%200 == 4 {
		rcvbuf = 64 << 10 // a bounded window: the big reply must wait for the socket
	}
	rc, err := dialPath(svc, "echo", "/", rcvbuf)
	if err != nil {
		return err
	}
	defer rc.Close()
	msg := fmt.Sprintf("hello %d", i)
	if _, err := rc.Write(frame(0x81, key1, []byte(msg))); err != nil {
		return err
	}
	op, _, p, err := rc.nextFrame(20 * time.Second)
	if err != nil || op != 1 || string(p) != msg {
		return fmt.Errorf("echo: op %d %q: %v", op, p, err)
	}
	if i%200 == 4 {
		before := setModes.Load()
		rc.Write(frame(0x81, key1, []byte("big please")))
		// Read only once the server's socket is full and it has asked to
		// be told when it drains (the reply is larger than the socket
		// buffers can hold).
		deadline := time.Now().Add(20 * time.Second)
		for setModes.Load() == before && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond) // polling a counter of the loop
		}
		if err := readBig(rc); err != nil {
			return err
		}
	}
	switch i % 3 {
	case 0: // the client closes with a handshake
		rc.Write(frame(0x88, key1, []byte{0x03, 0xE8}))
		op, _, _, err = rc.nextFrame(20 * time.Second)
		if err != nil || op != 8 {
			return fmt.Errorf("close answer: op %d: %v", op, err)
		}
	case 1: // the server closes
		rc.Write(frame(0x81, key1, []byte("close please")))
		op, _, _, err = rc.nextFrame(20 * time.Second)
		if err != nil || op != 8 {
			return fmt.Errorf("server close: op %d: %v", op, err)
		}
		rc.Write(frame(0x88, key1, []byte{0x03, 0xE8}))
	}
	// case 2: dropped without a close frame
	return nil
}

const bigReply = 8 << 20 // more than a loopback socket takes at once

// readBig reads the bigReply-byte binary message.
func readBig(rc *rawConn) error {
	rc.SetReadDeadline(time.Now().Add(20 * time.Second))
	var h [10]byte
	if _, err := io.ReadFull(rc.r, h[:]); err != nil {
		return err
	}
	if h[0] != 0x82 || h[1] != 127 || binary.BigEndian.Uint64(h[2:]) != bigReply {
		return fmt.Errorf("big message header % x", h)
	}
	_, err := io.CopyN(io.Discard, rc.r, bigReply)
	return err
}
