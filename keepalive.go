package lws

import (
	"time"

	"github.com/lws-go/lws/evloop"
	"github.com/lws-go/lws/wsproto"
)

// Connection validity (libwebsockets' retry_and_idle_policy: "ping after
// secs_since_valid_ping, hang up after secs_since_valid_hangup"), the
// write-stall limit and output backpressure.
//
// One timer per connection (Conn.ka.timer, created when first needed)
// serves two watches:
//
//   - keepalive: a WebSocket connection, server or client, that has
//     received nothing for Limits.PingInterval is sent a PING; when still
//     nothing has arrived Limits.PongTimeout later it is dropped and
//     OnClosed reports 1006 "keepalive timeout". Any received byte proves
//     the peer alive, not only the PONG.
//   - write stall: a connection (a WebSocket, or an HTTP response being
//     streamed) whose socket takes none of its queued bytes for
//     Limits.WriteStallTimeout is dropped; a WebSocket's OnClosed reports
//     1008 "write stalled". A closing connection is bounded by CloseTimeout
//     instead.
//
// The hot paths only store the loop's cached time (readable sets ka.rx;
// flush sets ka.wrote while output waits); the timer is re-armed when it
// fires, when output starts waiting and on the first read after a PING,
// never per message, and nothing is allocated per PING.
//
// Output backpressure is libwebsockets' rx flow control applied by the
// library: while more than Limits.WriteBufferSize bytes wait to be sent, a
// WebSocket connection is not read (Conn.rxHeld), and reading resumes once
// half of that has drained. A peer flooding PINGs without reading the
// PONGs therefore fills its own socket buffers and blocks instead of
// growing our memory, and the write-stall limit ends it.

// keepalive is a connection's validity and write-stall state. Times are
// nanoseconds on the loop's clock (serviceLoop.now); 0 means unset.
type keepalive struct {
	timer   *evloop.Timer
	due     int64 // when timer fires; 0 when not armed
	rx      int64 // last readiness to read
	pingAt  int64 // when the unanswered keepalive PING was sent
	wrote   int64 // last write progress since output began to wait
	waiting bool  // output waits for the socket: the stall watch is on
}

// monoEpoch is the origin of the loop clock used by keepalive.
var monoEpoch = time.Now()

// now is the loop's cached time of this iteration, as nanoseconds since
// monoEpoch (monotonic; never 0 in practice).
func (l *serviceLoop) now() int64 { return int64(l.ev.Now().Sub(monoEpoch)) }

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
	now := c.loop.now()
	c.ka.rx, c.ka.pingAt = now, 0
	if iv := c.pingInterval(); iv > 0 {
		c.armWatchBy(now + int64(iv))
	}
}

// noteRx records that the connection is readable: the peer is alive. The
// first read after a keepalive PING counts as its answer, and the next
// PING is due a full interval later.
func (c *Conn) noteRx() {
	c.ka.rx = c.loop.now()
	if c.ka.pingAt != 0 {
		c.ka.pingAt = 0
		if iv := c.pingInterval(); iv > 0 {
			c.armWatchBy(c.ka.rx + int64(iv))
		}
	}
}

// armWatchBy makes the watch timer fire at or before at.
func (c *Conn) armWatchBy(at int64) {
	if c.ka.due != 0 && c.ka.due <= at {
		return
	}
	c.ka.due = at
	d := time.Duration(at - c.loop.now())
	if c.ka.timer == nil {
		c.ka.timer = c.loop.ev.AfterFunc(d, c.watchFired)
		return
	}
	c.ka.timer.Reset(d)
}

// stopWatch stops the watch timer (the connection is gone).
func (c *Conn) stopWatch() {
	if c.ka.timer != nil {
		c.ka.timer.Stop()
		c.ka.due = 0
	}
}

// watchStall turns the write-stall watch on when output starts waiting for
// the socket.
func (c *Conn) watchStall() {
	if c.ka.waiting || (c.state != stateWS && c.state != stateHTTP) {
		return
	}
	st := c.loop.svc.limits.WriteStallTimeout
	if st < 0 {
		return
	}
	now := c.loop.now()
	c.ka.waiting, c.ka.wrote = true, now
	c.armWatchBy(now + int64(st))
}

// wroteSome records write progress while the stall watch is on.
func (c *Conn) wroteSome() {
	if c.ka.waiting {
		c.ka.wrote = c.loop.now()
	}
}

// watchFired checks both watches and re-arms the timer for the next check.
func (c *Conn) watchFired() {
	c.ka.due = 0
	if c.state != stateWS && c.state != stateHTTP {
		return
	}
	now := c.loop.now()
	var next int64
	if c.ka.waiting {
		st := int64(c.loop.svc.limits.WriteStallTimeout)
		if now-c.ka.wrote >= st {
			c.dropStalled(time.Duration(now - c.ka.wrote))
			return
		}
		next = c.ka.wrote + st
	}
	if c.state == stateWS {
		if iv := c.pingInterval(); iv > 0 {
			at, ok := c.keepaliveCheck(now, int64(iv))
			if !ok {
				return
			}
			if next == 0 || at < next {
				next = at
			}
		}
	}
	if next != 0 {
		c.armWatchBy(next)
	}
}

// keepaliveCheck sends the keepalive PING when the connection has been
// silent for iv, or drops it when the PING went unanswered for
// PongTimeout. It returns when to check again, and false when the
// connection was dropped.
func (c *Conn) keepaliveCheck(now, iv int64) (int64, bool) {
	pong := int64(c.loop.svc.limits.PongTimeout)
	if c.ka.pingAt != 0 {
		switch {
		case c.ka.rx > c.ka.pingAt: // answered
			c.ka.pingAt = 0
		case c.rxPaused || c.rxHeld: // not reading: the answer cannot be seen
			return now + pong, true
		case now-c.ka.pingAt >= pong:
			c.logInfo("no answer to the keepalive PING in %v: dropping the connection", time.Duration(now-c.ka.pingAt))
			c.closeCode, c.closeReason = wsproto.CloseAbnormal, "keepalive timeout"
			c.closeNow()
			return 0, false
		default:
			return c.ka.pingAt + pong, true
		}
	}
	if idleUntil := c.ka.rx + iv; now < idleUntil {
		return idleUntil, true
	}
	c.ka.pingAt = now
	c.queueFrame(wsproto.OpPing, true, nil)
	c.flush()
	if c.state == stateDead {
		return 0, false
	}
	return now + pong, true
}

// dropStalled closes a connection whose socket has taken nothing for the
// write-stall limit.
func (c *Conn) dropStalled(d time.Duration) {
	c.logInfo("the peer has taken none of %d queued bytes for %v: dropping the connection", c.Buffered(), d)
	if c.state == stateWS {
		c.closeCode, c.closeReason = wsproto.ClosePolicyViolation, "write stalled"
	}
	c.closeNow()
}

// checkBackpressure holds reading a WebSocket connection while more than
// Limits.WriteBufferSize bytes wait to be sent, and resumes it once no more
// than half of that waits.
func (c *Conn) checkBackpressure() {
	if c.state != stateWS && c.state != stateClosing {
		return
	}
	limit := c.loop.svc.limits.WriteBufferSize
	switch b := c.Buffered(); {
	case !c.rxHeld && b > limit:
		c.rxHeld = true
		c.updateEvents()
	case c.rxHeld && b <= limit/2:
		c.rxHeld = false
		c.resumeReading()
	}
}
