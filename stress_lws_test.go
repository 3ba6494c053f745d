//go:build linux

package lws_test

// The stress test's lws connection ends: server connections and
// Service.Connect clients of the "stress" protocol. Each has a writer
// that writes its messages with Conn.Write, fragmented at random with
// PINGs in between, filling the output up to a level of its own; Send
// goroutines; goroutines that Post whole messages for the loop to write;
// an echo of what it receives, written from OnReceive; and readers that
// pause from OnReceive and resume from another goroutine, a timer or a
// posted function, or are paused and resumed by a chaos goroutine.

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/internal/sockio"
	"github.com/lws-go/lws/wsproto"
)

// lwsEnd is an lws end's state. Fields are touched only on the
// connection's loop goroutine unless noted.
type lwsEnd struct {
	e      *end
	rng    *rand.Rand
	target int // the writer writes while less than this waits unsent

	active  bool     // the activity started
	closing bool     // the test closed the connection: no more pauses
	wseq    uint32   // the writer's next message
	frags   [][]byte // the fragments of the writer's message still to write
	outbox  []outMsg // whole messages to write: echoes, posted messages
	pumping bool

	pauses       int  // pauses in effect; reading resumes when the last ends
	postedPauses int  // of which made by the chaos goroutine: no OnReceive may come while one is in effect
	timerPending bool // a pause ends with OnTimer

	gathering    bool // the pieces of a message are being gathered (no Reassemble)
	gatherBinary bool
	gather       []byte

	outboxBytes atomic.Int64 // bytes posted and not yet written (any goroutine)
}

// outMsg is a whole message waiting in the outbox.
type outMsg struct {
	data   []byte
	binary bool
	from   *sender // the Post sender, nil for an echo
}

func newLWSEnd(e *end, seed uint64) *lwsEnd {
	l := &lwsEnd{e: e, rng: rand.New(rand.NewPCG(seed, 5))}
	l.target = [...]int{1, 16 << 10, 256 << 10, 1 << 30}[l.rng.IntN(4)]
	return l
}

// stressProtocol is the protocol of one side's lws ends.
func (sc *scenario) stressProtocol(side int) *lws.Protocol {
	endOf := func(c *lws.Conn) *end { return c.User().(*end) }
	return &lws.Protocol{
		Name:          "stress",
		Reassemble:    sc.p.reassemble[side],
		RxBufferSize:  sc.p.rxBuffer[side],
		Compression:   sc.p.compression,
		OnEstablished: func(c *lws.Conn) { sc.lwsEstablished(side, c) },
		OnReceive:     func(c *lws.Conn, data []byte) { endOf(c).lws.receive(c, data) },
		OnWriteable:   func(c *lws.Conn) { endOf(c).lws.pump(c) },
		OnTimer: func(c *lws.Conn) {
			l := endOf(c).lws
			l.timerPending = false
			l.unpause(c)
		},
		OnClosed: func(c *lws.Conn, code wsproto.CloseCode, reason string) {
			if e, ok := c.User().(*end); ok {
				e.closedWith(int(code), reason)
			}
		},
		OnConnectionError: func(c *lws.Conn, err error) {
			sc.fail(fmt.Errorf("%v: connection failed: %w", c.User(), err))
		},
	}
}

// lwsEstablished binds a new connection to its end: a server connection
// finds its pair by the query of its request.
func (sc *scenario) lwsEstablished(side int, c *lws.Conn) {
	e, _ := c.User().(*end)
	if side == sideServer {
		id, err := strconv.Atoi(c.RequestQuery()[len("pair="):])
		if err != nil || id < 0 || id >= len(sc.pairs) {
			sc.fail(fmt.Errorf("server connection for %q", c.RequestQuery()))
			return
		}
		e = sc.pairs[id].server
		c.SetUser(e)
	}
	if !e.conn.CompareAndSwap(nil, c) {
		sc.fail(fmt.Errorf("%v established twice", e))
		return
	}
	if pr := e.pair; pr.resetSide == side {
		_ = sockio.ResetAfter(lws.SocketFD(c), pr.resetAfter, func() { pr.truncate("socket reset by fault injection", true) })
	}
	close(e.established)
}

// post runs f on the end's loop.
func (l *lwsEnd) post(f func(c *lws.Conn)) error {
	c := l.e.conn.Load()
	return c.Post(func() { f(c) })
}

// start starts the end's activity: its writer on the loop, its Send and
// Post goroutines, its chaos goroutine.
func (l *lwsEnd) start() {
	e, sc := l.e, l.e.sc
	l.post(func(c *lws.Conn) {
		l.active = true
		l.pump(c)
	})
	for _, s := range e.tasks {
		seed := sc.r.Uint64()
		switch s.kind {
		case kindSend:
			sc.goTask(func() { l.sendTask(s, seed) })
		case kindPost:
			sc.goTask(func() { l.postTask(s, seed) })
		}
	}
	if sc.p.chaos {
		seed := sc.r.Uint64()
		sc.goTask(func() { l.chaos(seed) })
	}
}

// receive is OnReceive: gather the message, check it, echo it, perhaps
// pause.
func (l *lwsEnd) receive(c *lws.Conn, data []byte) {
	e := l.e
	if l.pauses > 0 {
		// PauseRx stops delivery at once, within a frame or a compressed
		// message too.
		e.sc.fail(fmt.Errorf("%v: OnReceive while PauseRx is in effect (%d pauses, %d from posted functions)", e, l.pauses, l.postedPauses))
		return
	}
	msg, binary := data, c.IsBinary()
	if !c.Protocol().Reassemble {
		if !l.gathering {
			l.gathering, l.gatherBinary, l.gather = true, binary, l.gather[:0]
		} else if binary != l.gatherBinary {
			e.sc.fail(fmt.Errorf("%v: a piece of a %s message says it is %s", e, typeName(l.gatherBinary), typeName(binary)))
			return
		}
		l.gather = append(l.gather, data...)
		if !c.IsFinalFragment() {
			l.maybePause(c, false)
			return
		}
		l.gathering = false
		msg = l.gather
	}
	echo, err := e.rx.receive(binary, msg)
	if err != nil {
		e.sc.fail(fmt.Errorf("%v: %w", e, err))
		return
	}
	if echo && e.echo && !l.closing {
		l.outbox = append(l.outbox, outMsg{data: slices.Clone(msg), binary: binary})
		l.pump(c)
	}
	l.maybePause(c, true)
}

// maybePause pauses reading from OnReceive, now and then (rarely in the
// middle of a message delivered in pieces), and arranges its end: from
// another goroutine through Post, from OnTimer, or from a function the
// loop runs next.
func (l *lwsEnd) maybePause(c *lws.Conn, endOfMessage bool) {
	p := l.e.sc.p.pause
	if !endOfMessage {
		p /= 64
	}
	if l.closing || l.rng.Float64() >= p {
		return
	}
	l.pause(c)
	d := time.Duration(l.rng.IntN(3000)) * time.Microsecond
	if l.rng.IntN(30) == 0 {
		d = time.Duration(20+l.rng.IntN(100)) * time.Millisecond // a stalled reader
	}
	switch l.rng.IntN(3) {
	case 1:
		if !l.timerPending {
			l.timerPending = true
			c.SetTimer(max(d, time.Millisecond))
			return
		}
		fallthrough
	case 0:
		time.AfterFunc(d, func() { c.Post(func() { l.unpause(c) }) })
	case 2:
		c.Post(func() { l.unpause(c) })
	}
}

func (l *lwsEnd) pause(c *lws.Conn) {
	if l.closing {
		return
	}
	l.pauses++
	c.PauseRx()
	if !c.RxPaused() {
		l.e.sc.fail(fmt.Errorf("%v: RxPaused false after PauseRx", l.e))
	}
}

func (l *lwsEnd) unpause(c *lws.Conn) {
	if l.pauses == 0 || l.closing {
		return
	}
	l.pauses--
	if l.pauses == 0 {
		c.ResumeRx()
	}
}

// chaosPause and chaosUnpause are the chaos goroutine's pause and its end.
func (l *lwsEnd) chaosPause(c *lws.Conn) {
	if !l.closing {
		l.postedPauses++
		l.pause(c)
	}
}

func (l *lwsEnd) chaosUnpause(c *lws.Conn) {
	if l.postedPauses > 0 && !l.closing {
		l.postedPauses--
		l.unpause(c)
	}
}

// closeConn starts the close handshake, resuming reading first so the
// peer's answer is read.
func (l *lwsEnd) closeConn(c *lws.Conn, code int, reason string) {
	l.closing = true
	l.postedPauses = 0
	if l.pauses > 0 {
		l.pauses = 0
		c.ResumeRx()
	}
	c.Close(wsproto.CloseCode(code), reason)
}

// chaos pauses and resumes reading from another goroutine through
// Conn.Post, until the activity ends.
func (l *lwsEnd) chaos(seed uint64) {
	r := rand.New(rand.NewPCG(seed, 9))
	sc := l.e.sc
	for {
		select {
		case <-sc.chaosStop:
			return
		case <-time.After(time.Duration(1+r.IntN(30)) * time.Millisecond): // the next random pause
		}
		if l.post(l.chaosPause) != nil {
			return
		}
		d := time.Duration(r.IntN(5000)) * time.Microsecond
		if r.IntN(30) == 0 {
			d = time.Duration(20+r.IntN(100)) * time.Millisecond
		}
		time.Sleep(d) // the pause's random length
		if l.post(l.chaosUnpause) != nil {
			return
		}
	}
}

// pump writes what waits: the rest of the writer's fragmented message,
// outbox messages and the writer's next messages, while the output has
// room; otherwise it asks for OnWriteable.
func (l *lwsEnd) pump(c *lws.Conn) {
	if l.pumping || l.closing {
		return
	}
	l.pumping = true
	defer func() { l.pumping = false }()
	e := l.e
	w := e.writer
	for {
		if len(l.frags) > 0 {
			f := l.frags[0]
			if l.rng.IntN(8) == 0 { // a PING between two fragments
				if err := c.Write([]byte("ping "+strconv.Itoa(len(l.frags))), lws.WritePing); err != nil && !errors.Is(err, lws.ErrWriteBufferFull) && !errors.Is(err, lws.ErrClosed) {
					e.sc.fail(fmt.Errorf("%v: WritePing: %w", e, err))
				}
			}
			if !l.room(c, len(f)) {
				c.RequestWriteable()
				return
			}
			mode := lws.WriteContinuation
			if len(l.frags) > 1 {
				mode |= lws.WriteNoFin
			}
			if !l.write(c, f, mode) {
				return
			}
			l.frags[0] = nil
			l.frags = l.frags[1:]
			if len(l.frags) == 0 {
				w.accepted()
			}
			continue
		}
		writerDue := l.active && w != nil && int(l.wseq) < w.total
		if len(l.outbox) > 0 && (!writerDue || l.rng.IntN(2) == 0) {
			m := l.outbox[0]
			if !l.room(c, len(m.data)) {
				c.RequestWriteable()
				return
			}
			if !l.write(c, m.data, dataMode(m.binary)) {
				return
			}
			l.outbox[0] = outMsg{}
			l.outbox = l.outbox[1:]
			l.outboxBytes.Add(-int64(len(m.data)))
			if m.from != nil {
				m.from.accepted()
			}
			continue
		}
		if !writerDue {
			return
		}
		if c.Buffered() >= l.target {
			c.RequestWriteable()
			return
		}
		p := w.plan(e.sc, l.wseq)
		frags := split(makeMessage(p, w.id, l.wseq), l.rng)
		if !l.room(c, len(frags[0])) {
			c.RequestWriteable()
			return
		}
		mode := dataMode(p.binary)
		if len(frags) > 1 {
			mode |= lws.WriteNoFin
		}
		if !l.write(c, frags[0], mode) {
			return
		}
		l.wseq++
		if len(frags) == 1 {
			w.accepted()
		} else {
			l.frags = frags[1:]
		}
	}
}

// room reports whether Conn.Write takes n more bytes now.
func (l *lwsEnd) room(c *lws.Conn, n int) bool {
	b := c.Buffered()
	return b == 0 || b+n <= l.e.sc.p.writeBuffer
}

// write is one Conn.Write; false when the connection is closing or gone.
func (l *lwsEnd) write(c *lws.Conn, data []byte, mode lws.WriteMode) bool {
	err := c.Write(data, mode)
	switch {
	case err == nil:
		return true
	case errors.Is(err, lws.ErrClosed):
		l.e.sc.endedEarly(l.e, "Write", err)
	default:
		l.e.sc.fail(fmt.Errorf("%v: Write of %d bytes, mode %#x, %d bytes buffered: %w", l.e, len(data), mode, c.Buffered(), err))
	}
	return false
}

func dataMode(binary bool) lws.WriteMode {
	if binary {
		return lws.WriteBinary
	}
	return lws.WriteText
}

// split cuts a message into fragments at random points: mostly one, some
// a few, now and then many, empty ones included.
func split(msg []byte, r *rand.Rand) [][]byte {
	n := 1
	switch u := r.IntN(10); {
	case u == 9:
		n = 5 + r.IntN(12)
	case u >= 7:
		n = 2 + r.IntN(3)
	}
	cuts := make([]int, 0, n+1)
	for range n - 1 {
		cuts = append(cuts, r.IntN(len(msg)+1))
	}
	slices.Sort(cuts)
	cuts = append(cuts, len(msg))
	frags := make([][]byte, 0, n)
	at := 0
	for _, cut := range cuts {
		frags = append(frags, msg[at:cut])
		at = cut
	}
	return frags
}

// sendTask sends s's messages with Conn.Send, waiting and sending again
// when the send queue refuses one.
func (l *lwsEnd) sendTask(s *sender, seed uint64) {
	e, sc := l.e, l.e.sc
	r := rand.New(rand.NewPCG(seed, 11))
	c := e.conn.Load()
	for seq := uint32(0); int(seq) < s.total; seq++ {
		p := s.plan(sc, seq)
		msg := makeMessage(p, s.id, seq)
		for {
			err := c.Send(msg, dataMode(p.binary))
			if err == nil {
				s.accepted()
				break
			}
			if !errors.Is(err, lws.ErrSendQueueFull) {
				sc.endedEarly(e, "Send", err)
				return
			}
			e.sendRefusals.Add(1)
			for c.Queued() > sc.p.sendQueue/2 {
				if e.isEnded() || !sleepCtx(sc.ctx, time.Millisecond) { // polling the queue
					return
				}
			}
		}
		if !pace(sc.ctx, r, 0.3) {
			return
		}
	}
}

// postTask sends s's messages by posting them to the loop, which writes
// them from the outbox.
func (l *lwsEnd) postTask(s *sender, seed uint64) {
	e, sc := l.e, l.e.sc
	r := rand.New(rand.NewPCG(seed, 13))
	for seq := uint32(0); int(seq) < s.total; seq++ {
		p := s.plan(sc, seq)
		m := outMsg{data: makeMessage(p, s.id, seq), binary: p.binary, from: s}
		for l.outboxBytes.Load() > int64(sc.p.writeBuffer) {
			if e.isEnded() || !sleepCtx(sc.ctx, time.Millisecond) { // polling the outbox
				return
			}
		}
		l.outboxBytes.Add(int64(len(m.data)))
		err := l.post(func(c *lws.Conn) {
			l.outbox = append(l.outbox, m)
			l.pump(c)
		})
		if err != nil {
			sc.endedEarly(e, "Post", err)
			return
		}
		if !pace(sc.ctx, r, 0.3) {
			return
		}
	}
}

// endedEarly handles a sender finding its connection gone: expected when
// the pair was closed or reset, a failure otherwise.
func (sc *scenario) endedEarly(e *end, what string, err error) {
	if why, _ := e.pair.whyTruncated(); why != "" || sc.ctx.Err() != nil {
		return
	}
	select {
	case <-sc.settled:
		return
	default:
	}
	sc.fail(fmt.Errorf("%v: %s: %w, and the connection was not closed at random", e, what, err))
}

// sleepCtx sleeps d unless ctx ends first; it reports whether ctx is live.
func sleepCtx(ctx interface{ Done() <-chan struct{} }, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
