package lws

import (
	"io"

	"github.com/lws-go/lws/evloop"
	"github.com/lws-go/lws/internal/sockio"
	"github.com/lws-go/lws/wsproto"
	"golang.org/x/sys/unix"
)

// WriteMode says what kind of frame Conn.Write sends (libwebsockets' enum
// libwebsocket_write_protocol).
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
// sent, and the connection ends when the peer answers or after
// Limits.CloseTimeout. On a plain HTTP connection it closes after what is
// queued has been sent. A client connection not yet established is
// abandoned: OnConnectionError reports ErrClosed.
func (c *Conn) Close(code wsproto.CloseCode, reason string) {
	c.assertLoop()
	switch c.state {
	case stateWS:
		c.sendQueuedBeforeClose()
		c.queueClose(code, reason)
		c.state = stateClosing
		c.wantWriteable = false
		c.setDeadline(c.loop.svc.limits.CloseTimeout)
		c.flush()
	case stateHTTP:
		c.drain()
	case stateConnecting, stateClientHandshake:
		c.failClient(ErrClosed) // a client not yet established: abandon it
	}
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
	c.watchStall() // the socket may not become writable again (keepalive.go)
	c.updateEvents()
}

// queueFrame appends one frame to the output queue, masked for a client,
// and compressed when permessage-deflate is on (compress.go).
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

// writeDirect sends one frame of a large payload with one writev: the
// bytes already queued (replies deferred within a read batch), the frame
// header and the payload where the caller has it. Only what the socket
// does not take is copied into the queue, and flush goes on from there
// (meeting any error the writev met).
func (c *Conn) writeDirect(op wsproto.Opcode, fin bool, payload []byte) {
	var hb [wsproto.MaxHeaderSize]byte
	header := hb[:wsproto.PutHeader(hb[:], wsproto.Header{Fin: fin, Opcode: op, Length: int64(len(payload))})]
	c.loop.stats.sent(op, fin, len(payload)) // stats.go
	queued := c.out[c.outOff:]
	n, _ := sockio.Writev3(c.fd, queued, header, payload)
	if n > 0 {
		c.wroteSome()
	}
	if n < len(queued) {
		c.outOff += n
		n = 0
	} else {
		c.outOff = len(c.out)
		n -= len(queued)
	}
	if n < len(header) {
		c.queueRaw(header[n:])
		n = 0
	} else {
		n -= len(header)
	}
	if n < len(payload) {
		c.queueRaw(payload[n:])
	}
	c.flush()
}

// queueClose appends a close frame with code and reason.
func (c *Conn) queueClose(code wsproto.CloseCode, reason string) {
	var buf [wsproto.MaxControlPayload]byte
	c.queueFrame(wsproto.OpClose, true, wsproto.AppendClosePayload(buf[:0], code, reason))
}

// queueRaw appends bytes (HTTP) to the output queue.
func (c *Conn) queueRaw(b []byte) {
	c.reserve(len(b))
	c.out = append(c.out, b...)
}

// reserve makes room for n more bytes in the output queue, taking a buffer
// from the loop's pool when the connection holds none.
func (c *Conn) reserve(n int) {
	if c.out == nil {
		c.out = c.loop.getBuf(n)
		return
	}
	if c.outOff > 0 && c.outOff == len(c.out) {
		c.out, c.outOff = c.out[:0], 0
	}
	if cap(c.out)-len(c.out) >= n {
		return
	}
	if c.outOff > 0 { // compact before growing
		k := copy(c.out, c.out[c.outOff:])
		c.out, c.outOff = c.out[:k], 0
		if cap(c.out)-len(c.out) >= n {
			return
		}
	}
	c.out = c.growPooled(c.out, n)
}

// growPooled returns b with room for n more bytes, moving it to a bigger
// buffer from the loop's pool when needed (the old one goes back).
func (c *Conn) growPooled(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	grown := c.loop.getBuf(max(2*cap(b), len(b)+n))
	grown = append(grown, b...)
	c.loop.putBuf(b)
	return grown
}

// appendPooled appends p to b, growing through the loop's pool.
func (c *Conn) appendPooled(b, p []byte) []byte {
	return append(c.growPooled(b, len(p)), p...)
}

// flush writes queued bytes (and the rest of a streamed file) until the
// socket would block, then watches for writability. On a write error the
// connection is closed from a posted function, never under the caller's
// feet.
func (c *Conn) flush() {
	for {
		for c.outOff < len(c.out) {
			n, err := c.sockWrite(c.out[c.outOff:]) // tls.go
			if n > 0 {
				c.outOff += n
				c.wroteSome()
				continue
			}
			switch err {
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				c.watchStall()
				c.updateEvents()
				return
			default:
				c.logInfo("write: %v", err)
				c.outOff = len(c.out)
				c.state = stateDraining
				_ = c.loop.ev.Post(c.closeNow)
				return
			}
		}
		if !c.streaming() {
			break
		}
		c.loadFileChunk()
	}
	// The queue is sent, but while the user waits for writability the
	// watch goes on: a peer that stops reading leaves the socket's buffer
	// full and the callback never due. writable() ends it.
	c.stallWatch = c.stallWatch && c.awaitsWriteable()
	if c.out != nil {
		c.loop.putBuf(c.out)
		c.out, c.outOff = nil, 0
	}
	if c.state == stateDraining && !c.shutWR {
		c.lingeringClose()
		return
	}
	// Reading held for this output resumes now: no writability event
	// may come to resume it (the flush was not writable's).
	if c.rxHeld {
		c.checkBackpressure()
	}
	c.updateEvents()
}

// writable handles a writability event: flush the queue, then give the
// user the OnWriteable they asked for.
func (c *Conn) writable() {
	if c.tlsWritable() { // TLS handshake output (tls.go)
		return
	}
	if c.outOff < len(c.out) || c.streaming() {
		c.flush()
		c.checkBackpressure()
		if c.outOff < len(c.out) || c.streaming() || c.state == stateDead {
			return
		}
	}
	c.stallWatch = false // the socket takes data again
	if c.sq.waiting() && c.state == stateWS {
		c.pumpSend()
		if c.outOff < len(c.out) || c.state != stateWS {
			return
		}
	}
	if c.wantWriteable && c.state == stateWS {
		c.wantWriteable = false
		c.callWriteable()
	}
	c.updateEvents()
}

// awaitsWriteable reports whether an OnWriteable callback or messages of
// the send queue wait for the socket to take more.
func (c *Conn) awaitsWriteable() bool {
	return c.state == stateWS && (c.wantWriteable || c.sq.waiting())
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
	c.setDeadline(c.loop.svc.limits.CloseTimeout)
	return true
}

// lingeringClose shuts our sending side and reads until the peer closes
// too (or the close deadline passes), so unread input never turns our last
// bytes into a reset.
func (c *Conn) lingeringClose() {
	c.shutWR = true
	c.tlsCloseNotify() // tls.go
	if err := unix.Shutdown(c.fd, unix.SHUT_WR); err != nil {
		c.closeNow()
		return
	}
	c.updateEvents()
}

// loadFileChunk moves the next chunk of a streamed HTTP body into the
// output queue; at the end of the file it finishes the response, and a
// file that ends early or fails to read ends the connection.
func (c *Conn) loadFileChunk() {
	const chunk = 32 << 10
	r := c.rare
	n := int(min(int64(chunk), r.fileLeft))
	c.reserve(n)
	start := len(c.out)
	c.out = c.out[:start+n]
	k, err := io.ReadFull(r.file, c.out[start:])
	c.out = c.out[:start+k]
	r.fileLeft -= int64(k)
	if err != nil || r.fileLeft <= 0 {
		if err != nil {
			c.bodyCut(r.file, r.fileLeft, err) // http.go
		}
		r.file.Close()
		r.file = nil
		c.endHTTPResponse()
	}
}
