package lws

import (
	"errors"
	"io"

	"github.com/lws-go/lws/internal/sockio"
	"github.com/lws-go/lws/logging"
	"github.com/lws-go/lws/wsproto"
)

// readBatches bounds how many full reads one readiness event may do, so one
// busy connection cannot starve the others of its loop.
const readBatches = 8

// readable consumes the connection's input while reading is allowed, from
// a readiness event or the resumption of reading. Replies written while
// consuming one batch go out in one write at its end.
func (c *Conn) readable() {
	c.noteRx()
	c.inRead = true
	c.readBatch()
	c.inRead = false
	if c.state != stateDead && c.outOff < len(c.out) {
		c.flush()
	}
	c.checkBackpressure()
	// The batch bound was reached with input the socket will not signal
	// again: go on after the other work of the loop.
	if c.canRead() && c.inputWaiting() {
		_ = c.loop.ev.Post(c.resumeInput)
	}
}

// inputWaiting reports whether input waits that no readiness event will
// announce: kept bytes, plaintext in the TLS session, or the rest of a
// compressed message being inflated.
func (c *Conn) inputWaiting() bool { return c.hasPending() || c.tlsMore() || c.inflating() }

// canRead reports whether the connection's input may be consumed now.
func (c *Conn) canRead() bool {
	return !c.rxPaused && !c.rxHeld && c.state != stateDead
}

func (c *Conn) readBatch() {
	if c.inflating() {
		// The rest of a compressed message whose delivery paused comes
		// before any newer input (compress.go).
		c.inflate()
		if !c.canRead() || c.inflating() {
			return
		}
	}
	buf := c.loop.rbuf
	for i := 0; i < readBatches; i++ {
		b, kept, err := c.input(buf)
		if len(b) > 0 {
			c.consume(b)
			if kept {
				c.loop.putBuf(b)
			}
			// A short read ends the batch: the socket is drained for now,
			// and what the TLS session still holds is consumed from a
			// posted function, after the replies of this batch are sent.
			if !c.canRead() || c.inflating() || !kept && len(b) < len(buf) {
				return
			}
			continue
		}
		switch err {
		case sockio.ErrAgain:
		case io.EOF:
			c.peerGone(nil)
		default:
			c.peerGone(err)
		}
		return
	}
}

// peerGone handles the end of the byte stream from the peer.
func (c *Conn) peerGone(err error) {
	c.noteClientEOF(err)
	if err == nil && !c.shutWR && (c.state == stateHTTP || c.state == stateDraining) && c.unsent() > 0 {
		// The client shut its side after its last request (a pipelining
		// client may send them all, then half-close): what it asked for
		// still goes out, then the connection closes. Nothing more can
		// be read.
		c.rxEnded = true
		c.keepAlive = false
		c.drain()
		c.updateEvents() // already draining, drain flushed nothing: stop watching reading
		return
	}
	if c.shutWR || c.state == stateHTTP && err == nil {
		c.closeNow()
		return
	}
	if err != nil {
		c.logInfo("read: %v", err)
	} else if c.state == stateWS {
		c.logInfo("peer closed the connection without a close frame")
	}
	c.closeNow()
}

// consume feeds received bytes to the connection's protocol. When reading
// is paused or held part way, or a compressed message's delivery stopped
// part way, the rest is kept (keep) for input to hand out first when
// reading resumes.
func (c *Conn) consume(b []byte) {
	for len(b) > 0 {
		if c.state == stateDead || c.shutWR {
			return
		}
		// Paused or held, or a compressed message's delivery stopped
		// part way (and the hold may have lifted since, in this loop):
		// the rest is kept, to come after that message's rest.
		if c.rxPaused || c.rxHeld || c.inflating() {
			c.keep(b)
			return
		}
		var n int
		switch c.state {
		case stateHTTP:
			n = c.consumeHTTP(b)
		case stateWS, stateClosing:
			n = c.consumeWS(b)
		case stateClientHandshake:
			n = c.consumeClientHandshake(b)
		default: // draining: input is discarded
			return
		}
		b = b[n:]
		if c.unsent() > c.loop.svc.limits.WriteBufferSize/2 {
			c.relieveOutput()
		}
	}
	c.releaseParser()
}

// Output backpressure is libwebsockets' rx flow control applied by the
// library: while more than half of Limits.WriteBufferSize waits unsent, a
// WebSocket connection is not read (Conn.rxHeld), and reading resumes once
// no more than a quarter waits. It is checked after every step of
// consume, so one read never runs far past the mark, and Write refuses
// only beyond the whole limit: a handler that answers what it reads with
// up to half the limit (an echo) never meets ErrWriteBufferFull because
// its peer reads slowly; the peer's sending is slowed instead.
//
// Two peers that both hold this way, each answering what it reads (two
// lws echoes connected to each other through Service.Connect, say), can
// wait on each other once both outputs back up beyond the sockets'
// buffers: neither reads until the other does. No byte is lost; the
// write-stall watch (Limits.WriteStallTimeout) ends both connections with
// 1008. Bounded buffering cannot avoid that cycle, only make it rarer;
// an application that relays both ways should pace its sending
// (RequestWriteable) rather than answer everything it reads.

// A Dial connection (Protocol.pacedWrites) is never held: its writes wait
// for the output to drain already, and a server that holds its own reading
// while our output waits would otherwise wait on us as we wait on it. What
// its reading alone makes it send (PONGs) is bounded in control instead.

// A plain HTTP connection is held before its next request instead, while
// more than WriteBufferSize of answers wait, and resumed here (http.go).

// checkBackpressure holds or resumes reading by the output waiting.
func (c *Conn) checkBackpressure() {
	if c.state == stateHTTP {
		c.resumeHTTP()
		return
	}
	if c.state != stateWS && c.state != stateClosing || c.proto.pacedWrites {
		return
	}
	limit := c.loop.svc.limits.WriteBufferSize
	switch b := c.unsent(); {
	case !c.rxHeld && b > limit/2:
		c.rxHeld = true
		c.updateEvents()
	case c.rxHeld && b <= limit/4:
		c.rxHeld = false
		c.resumeReading()
	}
}

// relieveOutput runs when output passes the backpressure mark while input
// is consumed: what the socket takes now goes, and reading holds if too
// much is left.
func (c *Conn) relieveOutput() {
	if c.state != stateDead {
		c.flush()
		c.checkBackpressure()
	}
}

// maxFreeParsers bounds a loop's free list of frame parsers.
const maxFreeParsers = 256

// parserConfig is the frame parser configuration of an established
// connection: its role, message limits and whether permessage-deflate
// was negotiated.
func (c *Conn) parserConfig() wsproto.ParserConfig {
	lim := &c.loop.svc.limits
	cfg := wsproto.ParserConfig{MaxMessageSize: c.proto.MaxMessageSize, MaxFragments: lim.MaxFragments, AllowRSV1: c.pmd != nil}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = lim.MaxMessageSize
	}
	if c.client {
		cfg.Role = wsproto.RoleClient
	}
	if !c.proto.Reassemble {
		// One OnReceive piece per parser event: a callback that pauses
		// reading stops the delivery at the next piece, the rest of the
		// frame staying in the input (kept) until ResumeRx.
		cfg.MaxChunk = c.proto.rxBufferSize()
	}
	return cfg
}

// takeParser gives the connection a frame parser from its loop's free
// list: an idle connection holds none, as the parser keeps no state
// between frames.
func (c *Conn) takeParser() *wsproto.Parser {
	p, ok := c.loop.parsers.get()
	if !ok {
		p = new(wsproto.Parser)
	}
	p.Init(c.parserConfig())
	c.parser = p
	return p
}

// releaseParser returns the parser to the loop's free list when it holds
// nothing of a frame or message (or the connection is gone). A failed
// parser stays: its error is sticky for the rest of the connection.
func (c *Conn) releaseParser() {
	p := c.parser
	if p == nil || (c.state != stateDead && !p.Idle()) {
		return
	}
	c.parser = nil
	c.loop.parsers.put(p, maxFreeParsers)
}

// resumeReading restarts reading after a pause or hold: the poller watches
// the socket again, and input kept meanwhile (or decrypted by TLS), which
// no readiness event will announce, is consumed from a posted function,
// never inside the caller's callback.
func (c *Conn) resumeReading() {
	if !c.canRead() {
		return
	}
	c.updateEvents()
	if c.inputWaiting() {
		_ = c.loop.ev.Post(c.resumeInput)
	}
}

// resumeInput consumes input that waits without a readiness event, if
// reading is still allowed when it runs.
func (c *Conn) resumeInput() {
	if c.canRead() {
		c.readable()
	}
}

// consumeWS runs the frame parser over b once and acts on its event.
func (c *Conn) consumeWS(b []byte) int {
	p := c.parser
	if p == nil {
		p = c.takeParser()
	}
	ev, n, err := p.Next(b)
	if err != nil {
		c.failProtocol(err)
		return len(b)
	}
	switch ev.Type {
	case wsproto.EventData:
		if c.state == stateWS {
			c.loop.stats.received(len(ev.Payload), ev.MessageEnd) // stats.go
			if ev.Compressed {
				c.gatherCompressed(&ev)
			} else {
				c.deliver(&ev)
			}
		}
	case wsproto.EventControl:
		c.control(&ev)
	}
	return n
}

// deliver hands a data chunk to OnReceive: split to RxBufferSize pieces, or
// gathered into whole messages for Protocol.Reassemble.
func (c *Conn) deliver(ev *wsproto.Event) {
	p := c.proto
	if p.Reassemble {
		if ev.MessageStart && ev.MessageEnd && (c.rare == nil || c.rare.msg == nil) {
			// The whole message is in the buffer read: deliver it where it
			// is, without copying it into a reassembly buffer.
			c.rxFinal, c.rxRemaining, c.rxBinary = true, 0, ev.Opcode == wsproto.OpBinary
			c.callReceive(ev.Payload)
			return
		}
		r := c.rareState()
		if ev.MessageStart {
			c.msgBinary = ev.Opcode == wsproto.OpBinary
			if r.msg == nil {
				r.msg = c.loop.getBuf(len(ev.Payload) + int(ev.FrameRemaining))
			}
		}
		r.msg = c.appendPooled(r.msg, ev.Payload)
		if !ev.MessageEnd {
			return
		}
		c.rxFinal, c.rxRemaining, c.rxBinary = true, 0, c.msgBinary
		c.callReceive(r.msg)
		if r.msg != nil { // the callback may have closed the connection
			c.loop.putBuf(r.msg)
			r.msg = nil
		}
		return
	}
	c.rxBinary = ev.Opcode == wsproto.OpBinary
	data := ev.Payload
	if len(data) == 0 {
		c.rxFinal, c.rxRemaining = ev.MessageEnd, ev.FrameRemaining
		c.callReceive(data)
		return
	}
	max := p.rxBufferSize()
	for len(data) > 0 && c.state == stateWS {
		k := min(len(data), max)
		piece := data[:k]
		data = data[k:]
		c.rxRemaining = ev.FrameRemaining + int64(len(data))
		c.rxFinal = ev.MessageEnd && len(data) == 0
		c.callReceive(piece)
	}
}

// control handles PING, PONG and CLOSE frames.
func (c *Conn) control(ev *wsproto.Event) {
	switch ev.Opcode {
	case wsproto.OpPing:
		if c.state != stateWS {
			break
		}
		if c.unsent() > c.loop.svc.limits.WriteBufferSize {
			// A peer that sends PINGs but does not read gets no more
			// PONGs once the output is full; the write-stall limit ends
			// it. (Held reading bounds this for other connections.)
			c.logInfo("PING not answered: %d bytes wait unsent", c.unsent())
			break
		}
		c.queueFrame(wsproto.OpPong, true, ev.Payload)
		c.flushUnlessReading()
	case wsproto.OpPong:
		if c.state == stateWS && c.proto.OnPong != nil {
			c.callPong(ev.Payload)
		}
	case wsproto.OpClose:
		c.setClose(ev.CloseCode, string(ev.CloseReason))
		c.peerClosed = true
		if c.state == stateWS {
			// Echo the peer's close with its code and reason.
			if ev.CloseCode == wsproto.CloseNoStatus {
				c.queueFrame(wsproto.OpClose, true, nil)
			} else {
				c.queueClose(ev.CloseCode, c.closeReasonText())
			}
		}
		c.drain()
	}
}

// failProtocol fails the connection for a peer's protocol error: a close
// frame with the error's code, then a lingering close.
func (c *Conn) failProtocol(err error) {
	var pe *wsproto.ProtocolError
	code, reason := wsproto.CloseProtocolError, "protocol error"
	if errors.As(err, &pe) {
		code, reason = pe.Code, pe.Reason
	}
	c.logInfo("failing connection with %d: %v", code, err)
	if c.state == stateWS && c.proto.failInOrder != nil {
		c.PauseRx() // reading stops at the offending frame
		c.proto.failInOrder(c, code, reason)
		return
	}
	c.fail(code, reason)
}

// fail sends a close frame with code and reason (when established) and
// closes: the connection fails.
func (c *Conn) fail(code wsproto.CloseCode, reason string) {
	if c.state == stateWS {
		c.queueClose(code, reason)
	}
	if c.closeCode == 0 {
		c.setClose(code, reason)
	}
	c.drain()
}

func (c *Conn) logInfo(format string, args ...any) {
	if logging.Enabled(logging.Info) {
		logging.Infof("conn %v fd %d: "+format, append([]any{c.remote, c.fd}, args...)...)
	}
}
