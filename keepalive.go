package lws

import (
	"time"

	"github.com/lws-go/lws/wsproto"
)

// Connection validity (libwebsockets' retry_and_idle_policy: "ping after
// secs_since_valid_ping, hang up after secs_since_valid_hangup"), the
// write-stall limit and deadlines.
//
// One sweep timer per loop (serviceLoop.sweep) serves three watches for all
// of the loop's connections, so no connection holds a timer of its own:
//
//   - keepalive: a WebSocket connection, server or client, that has
//     received nothing for Limits.PingInterval is sent a PING; when still
//     nothing has arrived Limits.PongTimeout later it is dropped and
//     OnClosed reports 1006 "keepalive timeout". Any received byte proves
//     the peer alive, not only the PONG.
//   - write stall: a connection whose socket takes none of its queued
//     bytes for Limits.WriteStallTimeout, or that waits that long for an
//     OnWriteable it asked for (RequestWriteable starts the watch: a socket
//     may stop being writable while every byte written so far was taken),
//     is dropped; a WebSocket's OnClosed reports 1008 "write stalled". It
//     holds in every state output can wait in: a WebSocket, an HTTP
//     response, and a closing or draining connection, which CloseTimeout
//     bounds as well.
//   - deadline: a server connection must complete its HTTP request head
//     within Limits.HandshakeTimeout of its accept (or of the previous
//     response, kept alive), a client connection must connect and complete
//     its handshake within ClientInfo's timeouts, and a closing or
//     draining connection must end within Limits.CloseTimeout of having
//     sent all its output; past that it is closed (setDeadline,
//     startCloseDeadline, deadlinePassed). A handshake thus
//     allocates no timer.
//
// The sweep runs every quarter of the shortest of those limits in use on
// the loop (between minSweep and maxSweep), walks the loop's connection
// list and compares each connection's timestamps with the loop's cached
// time, so a watch acts at most one sweep period late and never early. It
// stops when no connection needs it. The hot paths only store the cached
// time (readable sets ka.rx; flush sets ka.wrote while output waits), and
// nothing is allocated per PING.
//
// Output backpressure (conn_read.go) holds reading while output waits, so
// a peer flooding PINGs without reading the PONGs fills its own socket
// buffers and blocks instead of growing our memory, and the write-stall
// limit ends it.

// keepalive is a connection's validity and write-stall state. Times are
// ticks of the loop's clock (serviceLoop.tick): milliseconds, wrapping
// every 49 days, compared by unsigned difference, so intervals up to
// maxTicks work across the wrap. A limit counts as passed only when the
// tick difference exceeds it, so truncation to ticks never acts early.
type keepalive struct {
	rx     uint32 // last readiness to read
	pingAt uint32 // when the unanswered keepalive PING was sent (Conn.pinged)
	wrote  uint32 // last write progress since output began to wait (Conn.stallWatch)
}

// maxTicks caps the intervals compared with tick differences.
const maxTicks = 1 << 31

// Bounds of the sweep period.
const (
	minSweep = 20 * time.Millisecond
	maxSweep = time.Second
)

// monoEpoch is the origin of the loop clock used by keepalive.
var monoEpoch = time.Now()

// tick is the loop's cached time of this iteration, in milliseconds since
// monoEpoch (monotonic), wrapping.
func (l *serviceLoop) tick() uint32 { return uint32(l.ev.Now().Sub(monoEpoch) / time.Millisecond) }

// ticks is d in ticks, capped at maxTicks.
func ticks(d time.Duration) uint32 { return uint32(min(d/time.Millisecond, maxTicks)) }

// needSweep makes sure the loop's sweep runs, at least every quarter of
// limit (a watch limit a connection of the loop now uses).
func (l *serviceLoop) needSweep(limit time.Duration) {
	every := min(max(limit/4, minSweep), maxSweep)
	switch {
	case l.sweep == nil:
		l.sweepEvery = every
		l.sweep = l.ev.AfterFunc(every, l.sweepConns)
	case every < l.sweepEvery:
		l.sweepEvery = every
		l.sweep.Reset(every)
	case !l.sweepArmed:
		l.sweep.Reset(l.sweepEvery)
	default:
		return
	}
	l.sweepArmed = true
}

// sweepConns checks the watches of every connection of the loop, and runs
// again a period later while some connection needs it.
func (l *serviceLoop) sweepConns() {
	l.sweepArmed = false
	now := l.tick()
	active := false
	for c := l.conns.head; c != nil; {
		next := c.next
		if c.checkWatch(now) {
			active = true
		}
		if next != nil && next.state == stateDead {
			// A callback closed the next connection: start over (checks
			// are idempotent within one sweep).
			next = l.conns.head
		}
		c = next
	}
	if active && !l.sweepArmed {
		l.sweep.Reset(l.sweepEvery)
		l.sweepArmed = true
	}
}

// pingInterval is the connection's keepalive interval; <= 0 means off.
func (c *Conn) pingInterval() time.Duration {
	if c.proto != nil && c.proto.PingInterval != 0 {
		return c.proto.PingInterval
	}
	return c.loop.svc.limits.PingInterval
}

// startKeepalive starts the keepalive watch of a connection that has just
// become an established WebSocket (server or client).
func (c *Conn) startKeepalive() {
	c.ka.rx, c.pinged = c.loop.tick(), false
	if iv := c.pingInterval(); iv > 0 {
		c.loop.needSweep(min(iv, c.loop.svc.limits.PongTimeout))
	}
}

// noteRx records that the connection is readable: the peer is alive. The
// first read after a keepalive PING counts as its answer, and the next
// PING is due a full interval later.
func (c *Conn) noteRx() {
	c.ka.rx, c.pinged = c.loop.tick(), false
}

// watchStall turns the write-stall watch on when output starts waiting for
// the socket, or an OnWriteable is requested.
func (c *Conn) watchStall() {
	if c.stallWatch || !c.state.writes() {
		return
	}
	st := c.loop.svc.limits.WriteStallTimeout
	if st < 0 {
		return
	}
	c.stallWatch, c.ka.wrote = true, c.loop.tick()
	c.loop.needSweep(st)
}

// wroteSome records write progress while the stall watch is on.
func (c *Conn) wroteSome() {
	if c.stallWatch {
		c.ka.wrote = c.loop.tick()
	}
}

// startCloseDeadline starts the CloseTimeout of a connection that begins
// closing or draining, once none of its output waits unsent: the peer's
// answer to our close frame, or the end of a lingering close, can only
// come after the peer has read it all, which for a large answer to a slow
// reader takes longer than any close timeout. Until then the write-stall
// watch bounds a peer that stops reading, and flush starts the deadline
// when the output is sent; with the watch off (a negative
// WriteStallTimeout) the deadline starts at once, the only bound left.
func (c *Conn) startCloseDeadline() {
	if (c.unsent() > 0 || c.streaming()) && c.loop.svc.limits.WriteStallTimeout >= 0 {
		c.clearDeadline()
		return
	}
	c.setDeadline(c.loop.svc.limits.CloseTimeout)
}

// setDeadline starts (or restarts) the connection's deadline: d from now,
// the connection is closed by deadlinePassed. Conn.deadline is the tick
// after which it has passed, compared by signed difference, so deadlines
// up to maxTicks-1 work across the wrap (longer ones are capped).
func (c *Conn) setDeadline(d time.Duration) {
	c.deadline = c.loop.tick() + min(ticks(d), maxTicks-1)
	c.deadlineOn = true
	c.loop.needSweep(d)
}

func (c *Conn) clearDeadline() { c.deadlineOn = false }

// deadlinePassed closes a connection whose deadline passed; which deadline
// it was follows from the state (every state change that starts another
// phase restarts or clears the deadline).
func (c *Conn) deadlinePassed() {
	c.deadlineOn = false
	switch c.state {
	case stateHTTP:
		c.logInfo("handshake timeout: closing")
		c.closeNow()
	case stateConnecting, stateClientHandshake:
		c.clientTimedOut() // client.go
	case stateClosing, stateDraining:
		c.logInfo("close timeout in state %v: closing", c.state)
		c.closeNow()
	}
}

// writes reports whether output can wait for the socket in this state:
// the states the write-stall watch covers.
func (s connState) writes() bool {
	return s.in(1<<stateWS | 1<<stateHTTP | 1<<stateClosing | 1<<stateDraining)
}

// checkWatch checks the watches of the connection at now; it reports
// whether the connection still needs the sweep.
func (c *Conn) checkWatch(now uint32) bool {
	if c.deadlineOn && int32(now-c.deadline) > 0 {
		c.deadlinePassed()
	}
	if c.stallWatch && c.state.writes() {
		if since := now - c.ka.wrote; since > ticks(c.loop.svc.limits.WriteStallTimeout) {
			c.dropStalled(time.Duration(since) * time.Millisecond)
			return false
		}
	}
	if c.state != stateWS && c.state != stateHTTP {
		return (c.deadlineOn || c.stallWatch) && c.state != stateDead
	}
	iv := c.pingInterval()
	if c.state == stateWS && iv > 0 {
		c.keepaliveCheck(now, ticks(iv))
	}
	return c.state != stateDead && (c.deadlineOn || c.stallWatch || c.state == stateWS && iv > 0)
}

// keepaliveCheck sends the keepalive PING when the connection has been
// silent for iv, or drops it when the PING went unanswered for
// PongTimeout.
func (c *Conn) keepaliveCheck(now, iv uint32) {
	if c.pinged {
		// Unanswered (noteRx clears pinged). While not reading, the answer
		// cannot be seen: wait.
		if c.rxPaused || c.rxHeld {
			return
		}
		if since := now - c.ka.pingAt; since > ticks(c.loop.svc.limits.PongTimeout) {
			c.logInfo("no answer to the keepalive PING in %v: dropping the connection", time.Duration(since)*time.Millisecond)
			c.setClose(wsproto.CloseAbnormal, "keepalive timeout")
			c.closeNow()
		}
		return
	}
	if now-c.ka.rx <= iv {
		return
	}
	c.ka.pingAt, c.pinged = now, true
	c.queueFrame(wsproto.OpPing, true, nil)
	c.flush()
}

// dropStalled closes a connection whose socket has taken nothing for the
// write-stall limit. A connection that was already failing or answering
// the peer's close keeps that code.
func (c *Conn) dropStalled(d time.Duration) {
	if b := c.unsent(); b > 0 {
		c.logInfo("the peer has taken none of %d queued bytes for %v: dropping the connection", b, d)
	} else {
		c.logInfo("the socket has not become writeable for %v (the peer reads nothing): dropping the connection", d)
	}
	if c.state == stateWS || c.state == stateClosing && c.closeCode == 0 {
		c.setClose(wsproto.ClosePolicyViolation, "write stalled")
	}
	c.closeNow()
}
