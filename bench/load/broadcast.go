package load

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"slices"
	"time"

	"github.com/lws-go/lws/wsproto"
	"golang.org/x/sys/unix"
)

// BroadcastConfig configures a broadcast run.
type BroadcastConfig struct {
	Addr   string // server address, IPv4 host:port
	PID    int    // server process, for its CPU time (0: not measured)
	Proto  Proto
	Conns  int // receivers
	Size   int // message size, at least 9
	Rounds int // measured broadcasts; 0 means 20
}

// bcConn is a receiver.
type bcConn struct {
	fd     int
	parser wsproto.Parser
	pos    int     // bytes of the current message seen
	seq    [9]byte // 'B' and the round number: the message's first bytes
	round  uint64  // last round received
}

// RunBroadcast measures the time from one sender's message until all
// Conns receivers have it, and the server's CPU per delivered message.
// Warm-up rounds run until one reaches every receiver (the servers register
// a connection after its handshake, which the client cannot see).
func RunBroadcast(cfg BroadcastConfig) (Result, error) {
	res := Result{Mode: "broadcast", Proto: cfg.Proto, Conns: cfg.Conns, Size: cfg.Size}
	if cfg.Conns <= 0 || cfg.Size < 9 {
		return res, errors.New("load: broadcast needs conns > 0 and size >= 9")
	}
	if cfg.Rounds <= 0 {
		cfg.Rounds = 20
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
	sender, _, err := dial(dst, netip.AddrFrom4([4]byte{127, 0, 0, 1}), cfg.Proto)
	if err != nil {
		return res, err
	}
	defer unix.Close(sender)

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return res, err
	}
	defer unix.Close(epfd)
	byFD := map[int]*bcConn{}
	for i, fd := range fds {
		c := &bcConn{fd: fd}
		c.parser.Init(wsproto.ParserConfig{Role: wsproto.RoleClient})
		byFD[fd] = c
		if len(rests[i]) > 0 {
			return res, errors.New("load: server sent data before any request")
		}
		if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(fd)}); err != nil {
			return res, err
		}
	}
	b := &bcRun{cfg: &cfg, epfd: epfd, byFD: byFD, sender: sender,
		events: make([]unix.EpollEvent, 1024), buf: make([]byte, 64<<10)}

	round := uint64(0)
	for warm := 0; ; warm++ {
		round++
		if _, ok, err := b.round(round, 3*time.Second); err != nil {
			return res, err
		} else if ok {
			break
		}
		if warm == 20 {
			return res, fmt.Errorf("load: no broadcast reached all %d receivers in 20 tries", cfg.Conns)
		}
	}
	cpu0, err := procCPUOrZero(cfg.PID)
	if err != nil {
		return res, err
	}
	times := make([]time.Duration, 0, cfg.Rounds)
	for i := 0; i < cfg.Rounds; i++ {
		round++
		d, ok, err := b.round(round, 30*time.Second)
		if err != nil {
			return res, err
		}
		if !ok {
			return res, fmt.Errorf("load: broadcast %d did not reach every receiver in 30s", i)
		}
		times = append(times, d)
	}
	cpu1, err := procCPUOrZero(cfg.PID)
	if err != nil {
		return res, err
	}
	slices.Sort(times)
	res.Rounds = cfg.Rounds
	res.LastDeliveryMs = float64(times[len(times)/2]) / 1e6
	res.LastDeliveryMaxMs = float64(times[len(times)-1]) / 1e6
	res.ServerCPU = (cpu1 - cpu0).Seconds()
	res.Messages = int64(cfg.Rounds) * int64(cfg.Conns)
	res.CPUPerDeliveryUs = res.ServerCPU * 1e6 / float64(res.Messages)
	return res, nil
}

type bcRun struct {
	cfg    *BroadcastConfig
	epfd   int
	byFD   map[int]*bcConn
	sender int
	events []unix.EpollEvent
	buf    []byte
}

// round sends broadcast number seq and waits until every receiver has it
// or timeout passes; it returns the time to the last delivery.
func (b *bcRun) round(seq uint64, timeout time.Duration) (time.Duration, bool, error) {
	payload := bytes.Repeat([]byte{'x'}, b.cfg.Size)
	payload[0] = 'B'
	binary.BigEndian.PutUint64(payload[1:9], seq)
	frame := requestFrame(b.cfg.Proto, payload)
	start := time.Now()
	if err := writeAll(b.sender, frame); err != nil {
		return 0, false, err
	}
	got := 0
	deadline := start.Add(timeout)
	for got < len(b.byFD) {
		if time.Now().After(deadline) {
			return 0, false, nil
		}
		n, err := unix.EpollWait(b.epfd, b.events, 10)
		if err != nil && err != unix.EINTR {
			return 0, false, err
		}
		for i := 0; i < n; i++ {
			c := b.byFD[int(b.events[i].Fd)]
			k, err := b.read(c, seq)
			if err != nil {
				return 0, false, err
			}
			got += k
		}
	}
	return time.Since(start), true, nil
}

// read drains a receiver and counts the messages of round seq it got.
func (b *bcRun) read(c *bcConn, seq uint64) (int, error) {
	got := 0
	for {
		n, err := unix.Read(c.fd, b.buf)
		if n > 0 {
			k, err := b.consume(c, b.buf[:n], seq)
			if err != nil {
				return got, err
			}
			got += k
			if n < len(b.buf) {
				return got, nil
			}
			continue
		}
		switch err {
		case unix.EAGAIN:
			return got, nil
		case unix.EINTR:
			continue
		case nil:
			return got, errors.New("load: server closed a receiver")
		}
		return got, err
	}
}

func (b *bcRun) consume(c *bcConn, p []byte, seq uint64) (int, error) {
	got := 0
	take := func(chunk []byte, end bool) {
		if c.pos < len(c.seq) {
			copy(c.seq[c.pos:], chunk)
		}
		c.pos += len(chunk)
		if end {
			if c.pos >= len(c.seq) && binary.BigEndian.Uint64(c.seq[1:]) == seq && c.round != seq {
				c.round = seq
				got++
			}
			c.pos = 0
		}
	}
	if b.cfg.Proto == Raw {
		for len(p) > 0 {
			k := min(len(p), b.cfg.Size-c.pos)
			take(p[:k], c.pos+k == b.cfg.Size)
			p = p[k:]
		}
		return got, nil
	}
	for len(p) > 0 {
		ev, n, err := c.parser.Next(p)
		if err != nil {
			return got, err
		}
		p = p[n:]
		if ev.Type == wsproto.EventData {
			take(ev.Payload, ev.MessageEnd)
		} else if ev.Type == wsproto.EventControl && ev.Opcode == wsproto.OpClose {
			return got, fmt.Errorf("load: server sent close %d", ev.CloseCode)
		}
	}
	return got, nil
}
