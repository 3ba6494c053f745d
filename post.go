package lws

// Sending from other goroutines (libwebsockets' libwebsockets_broadcast_foreign,
// without its flaws).
//
// Ownership rule: a connection's state is touched only by its loop
// goroutine. The functions here are the ways in from any other goroutine:
// Conn.Post runs a function on the connection's loop, Conn.Send queues one
// message for it, Service.Broadcast queues one message for every connection
// of a protocol on every loop. All of them go through evloop.Loop.Post (one
// eventfd wake-up for a burst of posts), so what one goroutine sends reaches
// each connection in the order it was sent.
//
// A queued message waits in the connection's send queue until the socket
// can take it: the loop moves messages from the queue into the connection's
// output buffer only while that buffer is (nearly) empty, so a slow reader
// holds at most Limits.SendQueueSize bytes of queued messages plus one
// batch of output; beyond the limit Limits.SendQueueOverflow decides.
// Messages always leave whole: a queued message never goes out in the middle
// of a fragmented message sent with Conn.Write and WriteNoFin.

import (
	"errors"
	"math"
	"sync/atomic"

	"github.com/lws-go/lws/logging"
	"github.com/lws-go/lws/wsproto"
)

// ErrSendQueueFull is returned by Conn.Send when the message would take the
// connection's send queue over Limits.SendQueueSize. The message is not
// queued; under OverflowClosePolicy or OverflowCloseInternal the connection
// is also being closed. A single message larger than the limit is accepted
// when the queue is empty.
var ErrSendQueueFull = errors.New("lws: send queue full")

// OverflowPolicy is what happens when a message from Conn.Send or
// Service.Broadcast would take a connection's send queue over
// Limits.SendQueueSize: the connection reads too slowly for what is sent
// to it.
type OverflowPolicy uint8

const (
	// OverflowDrop refuses the message for that connection: Conn.Send
	// returns ErrSendQueueFull, a broadcast skips the connection (counted by
	// Conn.Dropped). The connection stays open and receives later messages
	// once its queue has room; every message it gets is whole.
	OverflowDrop OverflowPolicy = iota
	// OverflowClosePolicy closes the connection with 1008 (policy
	// violation) "send queue full".
	OverflowClosePolicy
	// OverflowCloseInternal closes the connection with 1011 (internal
	// error) "send queue full".
	OverflowCloseInternal
)

func (p OverflowPolicy) String() string {
	switch p {
	case OverflowDrop:
		return "drop"
	case OverflowClosePolicy:
		return "close 1008"
	case OverflowCloseInternal:
		return "close 1011"
	}
	return "unknown"
}

const (
	// sendBatchBytes is how full the output buffer may get from the send
	// queue before the loop waits for the socket to drain.
	sendBatchBytes = 64 << 10
	// sendRounds bounds the fill-and-write rounds of one pump, so one
	// connection with a long queue does not starve the rest of its loop.
	sendRounds = 16
)

// sendMsg is one queued message. It is immutable once queued, so one
// sendMsg is shared by every connection a broadcast reaches.
type sendMsg struct {
	data []byte
	op   wsproto.Opcode
}

// sendQueue is a connection's queue of messages from other goroutines.
// The messages themselves are in a sendList, allocated on the first
// message queued, so a connection that is never sent to holds only this.
type sendQueue struct {
	bytes   atomic.Int64  // bytes reserved: queued, or posted and not yet queued
	dropped atomic.Uint64 // messages refused by OverflowDrop
	l       *sendList     // nil until a message is queued (loop only)
	closed  atomic.Bool   // the connection is gone: sends fail with ErrClosed
	pumping bool          // a pump is posted (loop only)
	// inMessage: a fragmented message sent with Write is unfinished, so
	// queued messages wait for its last frame (loop only).
	inMessage bool
	warned    bool // a drop was logged since the last accepted message (loop only)
}

// sendList holds a connection's queued messages (loop only).
type sendList struct {
	msgs   []*sendMsg // msgs[head:] wait
	head   int
	size   int64  // bytes of msgs[head:], so the queue is dropped without a walk
	pumpFn func() // c.pumpSend, made once
}

// queued reports whether messages are queued.
func (q *sendQueue) queued() bool { return q.l != nil && q.l.head < len(q.l.msgs) }

// waiting reports whether queued messages can go out now.
func (q *sendQueue) waiting() bool { return q.queued() && !q.inMessage }

// reserve accounts n more bytes unless that takes the queue over limit
// while it already holds something.
func (q *sendQueue) reserve(n, limit int64) bool {
	total := q.bytes.Add(n)
	if total > limit && total > n {
		q.bytes.Add(-n)
		return false
	}
	return true
}

func sendOpcode(mode WriteMode) (wsproto.Opcode, error) {
	switch mode {
	case WriteText:
		return wsproto.OpText, nil
	case WriteBinary:
		return wsproto.OpBinary, nil
	}
	return 0, errBadSendMode
}

var errBadSendMode = errors.New("lws: Send and Broadcast take WriteText or WriteBinary")

func newSendMsg(data []byte, op wsproto.Opcode) *sendMsg {
	return &sendMsg{data: append([]byte(nil), data...), op: op}
}

// Post runs f on the connection's loop goroutine, where f may use every
// method of c. Safe from any goroutine. Posts run in the order they were
// made. f is skipped when the connection has gone by the time it would
// run; Post returns ErrClosed when that is already known. A panic in f
// closes the connection with 1011 like a panic in a callback.
func (c *Conn) Post(f func()) error {
	if c.sq.closed.Load() {
		return ErrClosed
	}
	err := c.loop.ev.Post(func() {
		if c.state != stateDead {
			c.callPosted(f)
		}
	})
	if err != nil {
		return ErrClosed
	}
	return nil
}

func (c *Conn) callPosted(f func()) {
	defer c.recoverCallback("posted")
	f()
}

// Send queues data as one whole message (WriteText or WriteBinary) for the
// connection. Safe from any goroutine; data is copied, so the caller may
// reuse it at once. Messages sent by one goroutine go out in the order
// sent, each whole, as the connection's socket takes them (the writeable
// model: nothing is written ahead of the peer reading). It returns
// ErrClosed when the connection has gone (a Conn may be kept and used
// after it closed: that is a no-op with this error) and ErrSendQueueFull
// when Limits.SendQueueSize would be exceeded (see OverflowPolicy). A
// message queued while the connection is closing is dropped.
func (c *Conn) Send(data []byte, mode WriteMode) error {
	op, err := sendOpcode(mode)
	if err != nil {
		return err
	}
	if c.sq.closed.Load() {
		return ErrClosed
	}
	n := int64(len(data))
	if !c.sq.reserve(n, int64(c.loop.svc.limits.SendQueueSize)) {
		c.loop.stats.refusedMessage() // stats.go
		if c.loop.svc.limits.SendQueueOverflow == OverflowDrop {
			c.sq.dropped.Add(1)
		} else {
			_ = c.loop.ev.Post(c.overflow)
		}
		return ErrSendQueueFull
	}
	m := newSendMsg(data, op)
	if err := c.loop.ev.Post(func() { c.enqueue(m) }); err != nil {
		c.sq.bytes.Add(-n)
		return ErrClosed
	}
	return nil
}

// Dropped is how many messages OverflowDrop refused for this connection.
// Safe from any goroutine.
func (c *Conn) Dropped() uint64 { return c.sq.dropped.Load() }

// Queued is how many bytes of Send and Broadcast messages wait for this
// connection. Safe from any goroutine.
func (c *Conn) Queued() int { return int(c.sq.bytes.Load()) }

// Broadcast queues data as one whole message (WriteText or WriteBinary)
// for every established connection of protocol p on every loop, server and
// client connections alike. Safe from any goroutine; data is copied once
// and that copy is shared by all the connections. Order, backpressure and
// the overflow policy are as for Conn.Send; a connection that refuses the
// message under OverflowDrop counts it in Conn.Dropped.
//
// Broadcast never waits. When goroutines broadcast faster than a loop
// hands the messages out, at most Limits.BroadcastBacklog bytes of them
// wait for each loop (one message of any size when none waits); beyond that
// Broadcast returns ErrBroadcastBacklog and the message reaches no
// connection, so memory stays bounded however fast the producers are.
func (s *Service) Broadcast(p *Protocol, data []byte, mode WriteMode) error {
	op, err := sendOpcode(mode)
	if err != nil {
		return err
	}
	n := int64(len(data)) + broadcastOverhead
	limit := int64(s.limits.BroadcastBacklog)
	for i, l := range s.loops {
		if after := l.backlog.Add(n); after > limit && after != n {
			for _, r := range s.loops[:i+1] {
				r.backlog.Add(-n)
			}
			s.loops[0].stats.refusedBroadcast() // stats.go
			return ErrBroadcastBacklog
		}
	}
	m := newSendMsg(data, op)
	for i, l := range s.loops {
		l := l
		if err := l.ev.Post(func() { l.broadcast(p, m, n) }); err != nil {
			for _, r := range s.loops[i:] {
				r.backlog.Add(-n)
			}
			return ErrServiceClosed
		}
	}
	return nil
}

// broadcastOverhead is what a posted broadcast counts in a loop's backlog
// besides its payload: the posted function and its share of the message,
// so a flood of empty messages is bounded too.
const broadcastOverhead = 64

// broadcast queues m for every established connection of p on this loop;
// backlog is what its post counted in the loop's backlog.
func (l *serviceLoop) broadcast(p *Protocol, m *sendMsg, backlog int64) {
	l.backlog.Add(-backlog)
	n, limit := int64(len(m.data)), int64(l.svc.limits.SendQueueSize)
	for c := l.conns.head; c != nil; {
		next := c.next // an overflow close may unlink c
		if c.proto == p && c.state == stateWS {
			if c.sq.reserve(n, limit) {
				c.enqueue(m)
			} else {
				c.refuse()
			}
		}
		c = next
	}
}

// refuse applies the overflow policy on the loop for a message that did
// not fit.
func (c *Conn) refuse() {
	c.loop.stats.refusedMessage() // stats.go
	if c.loop.svc.limits.SendQueueOverflow == OverflowDrop {
		c.sq.dropped.Add(1)
		if !c.sq.warned {
			c.sq.warned = true
			logging.Warnf("conn %v fd %d: send queue over %d bytes: dropping messages (reader too slow)", c.remote, c.fd, c.loop.svc.limits.SendQueueSize)
		}
		return
	}
	c.overflow()
}

// overflow closes the connection under a closing overflow policy.
func (c *Conn) overflow() {
	if c.state != stateWS {
		return
	}
	code := wsproto.ClosePolicyViolation
	if c.loop.svc.limits.SendQueueOverflow == OverflowCloseInternal {
		code = wsproto.CloseInternalError
	}
	logging.Warnf("conn %v fd %d: send queue over %d bytes: closing with %d (reader too slow)", c.remote, c.fd, c.loop.svc.limits.SendQueueSize, code)
	c.setClose(code, "send queue full")
	c.Close(code, "send queue full")
	c.dropSendQueue()
}

// enqueue adds a reserved message to the queue and schedules a pump. A
// connection that is closing drops it.
func (c *Conn) enqueue(m *sendMsg) {
	if !c.state.canQueue() {
		c.sq.bytes.Add(-int64(len(m.data)))
		return
	}
	c.loop.stats.queuedMessage() // stats.go
	c.sq.warned = false
	if c.sq.l == nil {
		c.sq.l = &sendList{pumpFn: c.pumpSend}
	}
	c.sq.l.msgs = append(c.sq.l.msgs, m)
	c.sq.l.size += int64(len(m.data))
	c.schedulePump()
}

// canQueue reports whether messages may be queued in this state: when
// established, or before (a client connection's messages wait for its
// handshake).
func (s connState) canQueue() bool {
	return s.in(1<<stateWS | 1<<stateHTTP | 1<<stateConnecting | 1<<stateClientHandshake)
}

// schedulePump posts one pump for the connection. Posting rather than
// writing at once lets every message posted in the same loop iteration
// leave in one write.
func (c *Conn) schedulePump() {
	if c.sq.pumping {
		return
	}
	if c.loop.ev.Post(c.sq.l.pumpFn) == nil { // l is set: something is queued
		c.sq.pumping = true
	}
}

// pumpSend moves queued messages into the output buffer while it holds
// less than sendBatchBytes and writes them, until the socket would block
// (then writable continues the pump) or the queue is empty.
func (c *Conn) pumpSend() {
	c.sq.pumping = false
	switch {
	case c.state == stateWS:
	case c.state.canQueue(): // not established yet: callEstablished pumps
		return
	default:
		c.dropSendQueue()
		return
	}
	for round := 0; c.sq.waiting() && c.unsent() == 0; round++ {
		if round == sendRounds {
			c.schedulePump()
			return
		}
		c.moveQueued(sendBatchBytes)
		c.flush()
		if c.state != stateWS {
			return
		}
	}
}

// sendQueuedBeforeClose moves every message already queued by Send or
// Broadcast into the output, so what was sent before Close goes out
// before the close frame (Send; Send; Post(Close) delivers both).
// Messages waiting behind an unfinished fragmented Write cannot go out
// and are dropped with the queue.
func (c *Conn) sendQueuedBeforeClose() {
	c.moveQueued(math.MaxInt)
	c.dropSendQueue()
}

// moveQueued frames queued messages into the output buffer, in order,
// while one is waiting and the output holds less than limit bytes unsent,
// and takes them off the queue's accounts.
func (c *Conn) moveQueued(limit int) {
	q := c.sq.l
	if q == nil {
		return
	}
	var moved int64
	for c.sq.waiting() && c.unsent() < limit {
		m := q.msgs[q.head]
		q.msgs[q.head] = nil
		q.head++
		c.queueFrame(m.op, true, m.data)
		moved += int64(len(m.data))
	}
	c.sq.bytes.Add(-moved)
	q.size -= moved
	if q.head == len(q.msgs) {
		q.msgs, q.head = q.msgs[:0], 0
	}
}

// dropSendQueue discards the queued messages.
func (c *Conn) dropSendQueue() {
	q := c.sq.l
	if q == nil {
		return
	}
	c.sq.bytes.Add(-q.size)
	q.msgs, q.head, q.size = nil, 0, 0
}

// releaseSendQueue is closeNow's part: from now on Send and Post fail with
// ErrClosed.
func (c *Conn) releaseSendQueue() {
	c.sq.closed.Store(true)
	c.dropSendQueue()
}

// trackFragments keeps sendQueue.inMessage for a data frame written with
// Conn.Write and checks the frame continues (or starts) a message as
// RFC 6455 requires.
func (c *Conn) trackFragments(op wsproto.Opcode, fin bool) error {
	if op.IsControl() {
		return nil
	}
	if (op == wsproto.OpContinuation) != c.sq.inMessage {
		if c.sq.inMessage {
			return errFragmentUnfinished
		}
		return errNoFragmentStarted
	}
	c.sq.inMessage = !fin
	if fin && c.sq.queued() {
		c.schedulePump()
	}
	return nil
}

var (
	errFragmentUnfinished = errors.New("lws: a new message started before the fragmented one ended (send WriteContinuation)")
	errNoFragmentStarted  = errors.New("lws: WriteContinuation without a message started with WriteNoFin")
)
