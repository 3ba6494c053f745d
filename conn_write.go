package lws

import (
	"github.com/lws-go/lws/evloop"
	"github.com/lws-go/lws/wsproto"
)

// WriteMode says what kind of frame Conn.Write sends (libwebsockets' enum
// libwebsocket_write_protocol). WriteText and WriteBinary are also the
// message types everywhere else, in both roles: Conn.Send,
// Service.Broadcast, ClientConn.WriteMessage and ClientConn.ReadMessage.
type WriteMode uint8

const (
	// WriteText sends a TEXT frame (LWS_WRITE_TEXT).
	WriteText WriteMode = iota
	// WriteBinary sends a BINARY frame (LWS_WRITE_BINARY).
	WriteBinary
	// WriteContinuation continues a message started with WriteNoFin
	// (LWS_WRITE_CONTINUATION).
	WriteContinuation
	// WritePing sends a PING with at most 125 bytes (LWS_WRITE_PING).
	WritePing
	// WritePong sends an unsolicited PONG (LWS_WRITE_PONG).
	WritePong

	// WriteNoFin, or-ed into a data mode, leaves the frame without FIN: more
	// fragments of the message follow (LWS_WRITE_NO_FIN).
	WriteNoFin WriteMode = 0x80
)

var modeOpcodes = [...]wsproto.Opcode{
	WriteText:         wsproto.OpText,
	WriteBinary:       wsproto.OpBinary,
	WriteContinuation: wsproto.OpContinuation,
	WritePing:         wsproto.OpPing,
	WritePong:         wsproto.OpPong,
}

// Write sends data as one frame of the given mode (libwebsocket_write). The
// whole frame is taken: what the socket does not accept now is queued and
// sent as it drains. It fails with ErrWriteBufferFull (see its policy) when
// too much is already queued, and with ErrNotEstablished or ErrClosed when
// the connection cannot send.
//
// A message may be sent as several frames: WriteText or WriteBinary with
// WriteNoFin starts it, WriteContinuation|WriteNoFin continues it and
// WriteContinuation ends it; PING and PONG may be written in between. A
// continuation with no message started, or a new message before the last
// one ended, is refused with an error; messages from Conn.Send and
// Service.Broadcast wait until the fragmented message has ended.
func (c *Conn) Write(data []byte, mode WriteMode) error {
	c.assertLoop()
	switch c.state {
	case stateWS:
	case stateHTTP, stateConnecting, stateClientHandshake:
		return ErrNotEstablished
	default:
		return ErrClosed
	}
	fin := mode&WriteNoFin == 0
	m := mode &^ WriteNoFin
	if int(m) >= len(modeOpcodes) {
		return errBadMode
	}
	op := modeOpcodes[m]
	if op.IsControl() && (len(data) > wsproto.MaxControlPayload || !fin) {
		return errBadControl
	}
	if pending := len(c.out) - c.outOff; pending > 0 && pending+len(data) > c.loop.svc.limits.WriteBufferSize {
		return ErrWriteBufferFull
	}
	if err := c.trackFragments(op, fin); err != nil {
		return err
	}
	if len(data) >= directWriteMin && c.canWriteDirect() {
		c.writeDirect(op, fin, data)
	} else {
		c.queueFrame(op, fin, data)
		c.flushUnlessReading()
	}
	if c.state == stateDead {
		return ErrClosed
	}
	return nil
}

// flushUnlessReading sends queued bytes now, or at the end of the read
// batch being consumed, so the replies to many frames of one read leave in
// one write.
func (c *Conn) flushUnlessReading() {
	if !c.inRead {
		c.flush()
	}
}

// Close starts the closing handshake with code and reason
// (lws_close_reason and returning -1 from a callback): a close frame is
// sent, and the connection ends when the peer answers or
// Limits.CloseTimeout after all its output was sent. On a plain HTTP
// connection it closes after what is queued has been sent. A client
// connection not yet established is abandoned: OnConnectionError reports
// ErrClosed.
//
// It returns ErrClosed when the connection was already closing or gone,
// else nil; it does not wait (ClientConn.Close, which may, reports how
// the connection ended instead).
func (c *Conn) Close(code wsproto.CloseCode, reason string) error {
	c.assertLoop()
	switch c.state {
	case stateWS:
		c.sendQueuedBeforeClose()
		c.queueClose(code, reason)
		c.state = stateClosing
		c.wantWriteable = false
		c.startCloseDeadline()
		c.flush()
	case stateHTTP:
		c.drain()
	case stateConnecting, stateClientHandshake:
		c.failClient(ErrClosed) // a client not yet established: abandon it
	default:
		return ErrClosed
	}
	return nil
}

// goAway is Shutdown's close for one connection.
func (c *Conn) goAway() {
	switch c.state {
	case stateWS:
		c.Close(wsproto.CloseGoingAway, "going away")
	case stateHTTP:
		if !c.streaming() {
			c.drain()
		}
	case stateConnecting, stateClientHandshake:
		c.failClient(ErrServiceClosed)
	}
}

// RequestWriteable asks for one OnWriteable callback as soon as the
// connection can take more data (libwebsocket_callback_on_writable).
func (c *Conn) RequestWriteable() {
	c.assertLoop()
	if c.state != stateWS || c.wantWriteable {
		return
	}
	c.wantWriteable = true
	c.watchStall() // the socket may not become writable again
	c.updateEvents()
}

// queueFrame appends one frame to the output queue, masked for a client,
// and compressed when permessage-deflate is on.
func (c *Conn) queueFrame(op wsproto.Opcode, fin bool, payload []byte) {
	h := wsproto.Header{Fin: fin, Opcode: op, Length: int64(len(payload))}
	if c.pmd != nil && !op.IsControl() {
		var pooled []byte
		if payload, pooled = c.deflateFrame(&h, payload); pooled != nil {
			defer c.loop.putBuf(pooled)
		}
	}
	c.loop.stats.sent(op, fin, len(payload)) // stats.go
	if c.client {
		h.Masked = true
		h.Mask = wsproto.NewMaskKey()
	}
	size := h.Size()
	c.reserve(size + len(payload))
	start := len(c.out)
	c.out = c.out[:start+size]
	wsproto.PutHeader(c.out[start:], h)
	c.out = append(c.out, payload...)
	if h.Masked {
		wsproto.Mask(h.Mask, 0, c.out[start+size:])
	}
}

// directWriteMin is the payload size from which Write sends a frame with
// one writev straight from the caller's slice (writeDirect) instead of
// copying it into the output queue first: from a few KiB the copy costs
// more than the two extra iovecs.
const directWriteMin = 2 << 10

// canWriteDirect reports whether a frame may bypass the output queue: a
// plain socket (no TLS to encrypt through, no mask or compression to apply
// to a copy) that is not waiting for the peer to drain what is queued.
func (c *Conn) canWriteDirect() bool {
	return c.tls == nil && c.pmd == nil && !c.client && c.events&evloop.Writable == 0
}

// writeDirect sends one frame of a large payload without copying the
// payload into the output queue first (sendDirect).
func (c *Conn) writeDirect(op wsproto.Opcode, fin bool, payload []byte) {
	var hb [wsproto.MaxHeaderSize]byte
	header := hb[:wsproto.PutHeader(hb[:], wsproto.Header{Fin: fin, Opcode: op, Length: int64(len(payload))})]
	c.loop.stats.sent(op, fin, len(payload)) // stats.go
	c.sendDirect(header, payload)
}

// queueClose appends a close frame with code and reason.
func (c *Conn) queueClose(code wsproto.CloseCode, reason string) {
	var buf [wsproto.MaxControlPayload]byte
	c.queueFrame(wsproto.OpClose, true, wsproto.AppendClosePayload(buf[:0], code, reason))
}

// drain stops reading input for the protocol, sends what is queued and then
// closes with a lingering close.
func (c *Conn) drain() {
	if c.beginDrain() {
		c.flush()
	}
}

// beginDrain moves to the draining state; the caller flushes.
func (c *Conn) beginDrain() bool {
	if c.state == stateDead || c.state == stateDraining {
		return false
	}
	c.state = stateDraining
	c.wantWriteable = false
	c.rxPaused, c.rxHeld = false, false
	c.dropKept()
	c.startCloseDeadline()
	return true
}

// lingeringClose shuts our sending side and reads until the peer closes
// too (or the close deadline passes), so unread input never turns our last
// bytes into a reset.
func (c *Conn) lingeringClose() {
	c.shutWR = true
	c.tlsCloseNotify()
	if err := c.sockShutdownWrite(); err != nil || c.rxEnded {
		c.closeNow() // the peer's side ended already: nothing to wait for
		return
	}
	c.updateEvents()
}
