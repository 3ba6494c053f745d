package load

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lws-go/lws/wsproto"
	"golang.org/x/sys/unix"
)

// EchoConfig configures an echo run.
type EchoConfig struct {
	Addr     string // server address, IPv4 host:port
	PID      int    // server process, for its CPU time (0: not measured)
	Proto    Proto
	Conns    int           // connections
	Size     int           // message size in bytes
	InFlight int           // messages in flight per connection
	Warmup   time.Duration // not measured
	Duration time.Duration // measured window
	Workers  int           // client loops (threads); 0 means 1
}

// Phases of a run, read by the workers once per wake-up.
const (
	phaseWarmup int32 = iota
	phaseMeasure
	phaseStop
)

// maskKey masks every client frame: the server must unmask, which is all
// the benchmark needs of a key.
var maskKey = [4]byte{0x12, 0x34, 0x56, 0x78}

// echoConn is one connection of an echo run, owned by one worker.
type echoConn struct {
	fd      int
	parser  wsproto.Parser
	sent    []int64 // send times of the messages in flight (ring)
	head, n int
	got     int    // bytes of the message being received
	checked bool   // the first reply's content was checked
	pending []byte // bytes the socket did not take
	dead    bool
}

type echoWorker struct {
	cfg      *EchoConfig
	epfd     int
	conns    []*echoConn // by fd
	out      []byte      // InFlight request frames back to back
	frameLen int
	hist     histogram
	msgs     int64
	errs     int
	err      error
	base     time.Time
}

// RunEcho runs an echo benchmark.
func RunEcho(cfg EchoConfig) (Result, error) {
	res := Result{Mode: "echo", Proto: cfg.Proto, Conns: cfg.Conns, Size: cfg.Size, InFlight: cfg.InFlight}
	if cfg.Conns <= 0 || cfg.Size <= 0 || cfg.InFlight <= 0 {
		return res, errors.New("load: echo needs conns, size and inflight > 0")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	dst, err := netip.ParseAddrPort(cfg.Addr)
	if err != nil {
		return res, err
	}
	fds, rests, err := dialMany(dst, cfg.Conns, cfg.Proto)
	if err != nil {
		return res, err
	}
	defer closeAll(fds)
	for _, r := range rests {
		if len(r) > 0 {
			return res, errors.New("load: server sent data before any request")
		}
	}

	frame := requestFrame(cfg.Proto, bytes.Repeat([]byte{'x'}, cfg.Size))
	out := bytes.Repeat(frame, cfg.InFlight)
	base := time.Now()
	workers := make([]*echoWorker, cfg.Workers)
	for i := range workers {
		w := &echoWorker{cfg: &cfg, out: out, frameLen: len(frame), base: base}
		if w.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
			return res, err
		}
		defer unix.Close(w.epfd)
		workers[i] = w
	}
	for i, fd := range fds {
		w := workers[i%len(workers)]
		c := &echoConn{fd: fd, sent: make([]int64, cfg.InFlight)}
		c.parser.Init(wsproto.ParserConfig{Role: wsproto.RoleClient})
		for len(w.conns) <= fd {
			w.conns = append(w.conns, nil)
		}
		w.conns[fd] = c
		if err := unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(fd)}); err != nil {
			return res, err
		}
	}

	var phase atomic.Int32
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(&phase)
		}()
	}
	time.Sleep(cfg.Warmup)
	cpu0, err0 := procCPUOrZero(cfg.PID)
	t0 := time.Now()
	phase.Store(phaseMeasure)
	time.Sleep(cfg.Duration)
	phase.Store(phaseStop)
	t1 := time.Now()
	cpu1, err1 := procCPUOrZero(cfg.PID)
	wg.Wait()
	if err := errors.Join(err0, err1); err != nil {
		return res, err
	}

	var h histogram
	for _, w := range workers {
		h.merge(&w.hist)
		res.Messages += w.msgs
		res.Errors += w.errs
		if w.err != nil && err == nil {
			err = w.err
		}
	}
	res.Seconds = t1.Sub(t0).Seconds()
	res.MsgsPerSec = float64(res.Messages) / res.Seconds
	res.ServerCPU = (cpu1 - cpu0).Seconds()
	if res.Messages > 0 {
		res.CPUPerMsgUs = res.ServerCPU * 1e6 / float64(res.Messages)
	}
	res.P50Us = float64(h.quantile(0.50)) / 1e3
	res.P99Us = float64(h.quantile(0.99)) / 1e3
	return res, err
}

func procCPUOrZero(pid int) (time.Duration, error) {
	if pid <= 0 {
		return 0, nil
	}
	return ProcCPU(pid)
}

// requestFrame is one message as the client sends it.
func requestFrame(p Proto, payload []byte) []byte {
	if p == Raw {
		return payload
	}
	return wsproto.AppendFrame(nil, wsproto.Header{Fin: true, Opcode: wsproto.OpBinary, Masked: true, Mask: maskKey}, payload)
}

func (w *echoWorker) now() int64 { return int64(time.Since(w.base)) }

func (w *echoWorker) run(phase *atomic.Int32) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	now := w.now()
	for _, c := range w.conns {
		if c != nil {
			w.send(c, w.cfg.InFlight, now)
		}
	}
	events := make([]unix.EpollEvent, 512)
	buf := make([]byte, 256<<10)
	for {
		n, err := unix.EpollWait(w.epfd, events, 20)
		if err != nil && err != unix.EINTR {
			w.err = err
			return
		}
		ph := phase.Load()
		if ph == phaseStop {
			return
		}
		now := w.now()
		for i := 0; i < n; i++ {
			c := w.conns[events[i].Fd]
			if c.dead {
				continue
			}
			ev := events[i].Events
			if ev&unix.EPOLLOUT != 0 {
				w.flush(c)
			}
			if ev&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
				w.readable(c, buf, now, ph == phaseMeasure)
			}
		}
	}
}

func (w *echoWorker) fail(c *echoConn, err error) {
	if !c.dead {
		c.dead = true
		w.errs++
		if w.err == nil {
			w.err = fmt.Errorf("load: connection fd %d: %w", c.fd, err)
		}
		_ = unix.EpollCtl(w.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	}
}

// readable reads what the socket has, completes replies and sends as many
// new requests in one write.
func (w *echoWorker) readable(c *echoConn, buf []byte, now int64, measure bool) {
	done := 0
	for {
		n, err := unix.Read(c.fd, buf)
		if n > 0 {
			k, err := w.consume(c, buf[:n])
			if err != nil {
				w.fail(c, err)
				return
			}
			done += k
			if n < len(buf) {
				break
			}
			continue
		}
		if err == unix.EAGAIN {
			break
		}
		if err == unix.EINTR {
			continue
		}
		if err == nil {
			err = errors.New("server closed the connection")
		}
		w.fail(c, err)
		return
	}
	for i := 0; i < done; i++ {
		t := c.sent[c.head]
		c.head = (c.head + 1) % len(c.sent)
		c.n--
		if measure {
			w.hist.record(now - t)
			w.msgs++
		}
	}
	if done > 0 {
		w.send(c, done, now)
	}
}

// consume parses replies and returns how many completed.
func (w *echoWorker) consume(c *echoConn, b []byte) (int, error) {
	size := w.cfg.Size
	done := 0
	if w.cfg.Proto == Raw {
		if !c.checked {
			for _, x := range b[:min(len(b), size-c.got)] {
				if x != 'x' {
					return 0, errors.New("reply content differs from the request")
				}
			}
		}
		c.got += len(b)
		for c.got >= size {
			c.got -= size
			c.checked = true
			done++
		}
		return done, nil
	}
	for len(b) > 0 {
		ev, n, err := c.parser.Next(b)
		if err != nil {
			return done, err
		}
		b = b[n:]
		switch ev.Type {
		case wsproto.EventData:
			if !c.checked && bytes.IndexFunc(ev.Payload, func(r rune) bool { return r != 'x' }) >= 0 {
				return done, errors.New("reply content differs from the request")
			}
			c.got += len(ev.Payload)
			if ev.MessageEnd {
				if c.got != size {
					return done, fmt.Errorf("reply of %d bytes to a %d-byte message", c.got, size)
				}
				c.got = 0
				c.checked = true
				done++
			}
		case wsproto.EventControl:
			if ev.Opcode == wsproto.OpClose {
				return done, fmt.Errorf("server sent close %d %q", ev.CloseCode, ev.CloseReason)
			}
		}
	}
	return done, nil
}

// send writes k more requests and stamps them.
func (w *echoWorker) send(c *echoConn, k int, now int64) {
	for i := 0; i < k; i++ {
		c.sent[(c.head+c.n)%len(c.sent)] = now
		c.n++
	}
	b := w.out[:k*w.frameLen]
	if len(c.pending) > 0 {
		c.pending = append(c.pending, b...)
		return
	}
	for len(b) > 0 {
		n, err := unix.Write(c.fd, b)
		if n > 0 {
			b = b[n:]
			continue
		}
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			c.pending = append(c.pending[:0], b...)
			_ = unix.EpollCtl(w.epfd, unix.EPOLL_CTL_MOD, c.fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLOUT, Fd: int32(c.fd)})
			return
		}
		w.fail(c, err)
		return
	}
}

// flush writes pending bytes on EPOLLOUT.
func (w *echoWorker) flush(c *echoConn) {
	for len(c.pending) > 0 {
		n, err := unix.Write(c.fd, c.pending)
		if n > 0 {
			c.pending = c.pending[n:]
			continue
		}
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			return
		}
		w.fail(c, err)
		return
	}
	c.pending = c.pending[:0]
	_ = unix.EpollCtl(w.epfd, unix.EPOLL_CTL_MOD, c.fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(c.fd)})
}
