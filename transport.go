package lws

// The transport: how a connection's bytes move between its socket and the
// layers above. It owns the socket (the sock* methods below are the only
// code that touches it), what the poller watches, the input sources, the
// output queue with its flushing, and the loop's pool of buffers. The
// read path (conn_read.go) consumes what input returns; the write path
// (conn_write.go) frames into the output queue and flush sends it; TLS
// (tls.go) sits between the two and the socket when the connection has a
// session.

import (
	"io"
	"net"

	"github.com/lws-go/lws/evloop"
	"github.com/lws-go/lws/internal/sockio"
)

// transport is a connection's byte path state, embedded in Conn. (What
// the poller watches, Conn.events, is with Conn's small fields, where it
// takes no room of its own.)
type transport struct {
	fd     int    // the socket; -1 while a client connection has none
	out    []byte // output queue (pooled): out[outOff:] is unsent
	outOff int
}

// The socket. These methods are the only code that touches a connection's
// socket; each is one non-blocking operation:
//
//   - sockRead returns (n > 0, nil), (0, sockio.ErrAgain) when nothing is
//     there now, (0, io.EOF) at the orderly end of the stream, or (0, err);
//   - sockWrite and sockWritev return the bytes the socket took, with
//     sockio.ErrAgain when it takes nothing now (then writability is
//     reported by the poller when it can);
//   - sockShutdownWrite, sockClose (sockDiscard), sockConnectError;
//   - sockAttach, sockWatch and the Remove of sockClose are the only
//     changes of what the poller watches.

//
// A socket is a descriptor the poller watches, or on the portable backend
// (evloop.BackendPortable: Windows, or chosen by Config.Backend) a net.Conn
// that a netSocket serves with goroutines, notifying the loop; the fd is
// then the loop's id of the registration. Each method takes that branch
// on the loop's backend, never on the connection's state.

// socket is a connection's socket on its way to a loop: a descriptor, or
// a net.Conn for the portable backend.
type socket struct {
	fd int
	nc net.Conn
}

// setNoDelay turns Nagle's algorithm off: frames leave when written.
func (s socket) setNoDelay() {
	if tc, ok := s.nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
		return
	}
	if s.nc == nil {
		_ = sockio.SetNoDelay(s.fd)
	}
}

// close closes a socket no loop took.
func (s socket) close() {
	if s.nc != nil {
		s.nc.Close()
		return
	}
	sockio.Close(s.fd)
}

// sockAttach makes s the connection's socket, watched for ev, its events
// going to the connection's handler. When the loop cannot watch it, s is
// closed and the connection keeps no socket.
func (c *Conn) sockAttach(s socket, ev evloop.Events) error {
	if c.loop.portable {
		n, err := c.loop.ev.AddNotified((*connHandler)(c), ev)
		if err != nil {
			s.close()
			return err
		}
		c.rareState().ns = newNetSocket(s.nc, n.Notify)
		c.fd, c.events = n.ID(), ev
		return nil
	}
	if err := c.loop.ev.Add(s.fd, (*connHandler)(c), ev); err != nil {
		s.close()
		return err
	}
	c.fd, c.events = s.fd, ev
	return nil
}

// sockWatch makes the poller watch ev on the socket.
func (c *Conn) sockWatch(ev evloop.Events) {
	if err := c.loop.ev.Modify(c.fd, ev); err == nil {
		c.events = ev
	}
}

// sockRead is one non-blocking read from the socket.
func (c *Conn) sockRead(p []byte) (int, error) {
	if c.loop.portable {
		return c.rare.ns.read(p)
	}
	n, err := sockio.Read(c.fd, p)
	switch {
	case n > 0:
		return n, nil
	case err == nil:
		return 0, io.EOF
	}
	return 0, err
}

// sockWrite is one non-blocking write to the socket.
func (c *Conn) sockWrite(p []byte) (int, error) {
	if c.loop.portable {
		return c.rare.ns.writev(p)
	}
	n, err := sockio.Write(c.fd, p)
	return max(n, 0), err
}

// sockWritev is one non-blocking write of a, b and d (empty ones skipped)
// to the socket.
func (c *Conn) sockWritev(a, b, d []byte) (int, error) {
	if c.loop.portable {
		return c.rare.ns.writev(a, b, d)
	}
	n, err := sockio.Writev3(c.fd, a, b, d)
	return max(n, 0), err
}

// sockShutdownWrite shuts the socket's sending side: the peer reads the
// end of the stream after what was sent.
func (c *Conn) sockShutdownWrite() error {
	if c.loop.portable {
		c.rare.ns.shutdownWrite()
		return nil
	}
	return sockio.ShutdownWrite(c.fd)
}

// sockClose stops watching the socket and closes it; a client connection
// may have none yet. The descriptor's number stays (FD and the logs of
// OnClosed name it).
func (c *Conn) sockClose() {
	switch {
	case c.loop.portable:
		if c.rare != nil && c.rare.ns != nil {
			_ = c.loop.ev.Remove(c.fd)
			_ = c.rare.ns.close()
			c.rare.ns = nil
		}
	case c.fd >= 0:
		_ = c.loop.ev.Remove(c.fd)
		sockio.Close(c.fd)
	}
}

// sockDiscard closes the socket of a connect that failed: the connection
// has none until sockAttach gives it the next.
func (c *Conn) sockDiscard() {
	c.sockClose()
	c.fd, c.events = -1, 0
}

// sockConnectError is how the connect of a client's socket ended: nil once
// connected (call it when the socket reports writability or an error).
func (c *Conn) sockConnectError() error {
	if c.loop.portable {
		return nil // a net.Conn comes connected
	}
	return sockio.ConnectError(c.fd)
}

// sockRearm runs after the connection handled the readiness ev: a
// level-triggered poller reports the socket again, whenever the
// connection watches for it, while input waits in it or it has room for
// output, whatever the handler did: reading paused or held; a read path
// that stopped short of the socket (its batch bound, or plaintext the TLS
// session had decrypted already, handed out as a short read); an
// OnWriteable callback that wrote nothing and asks again, now or later.
// The portable backend's notifications are delivered once, so the
// netSocket notifies again what is still ready, and the loop keeps that
// until the connection watches for it.
func (c *Conn) sockRearm(ev evloop.Events) {
	if c.loop.portable && c.rare != nil && c.rare.ns != nil {
		c.rare.ns.rearm(ev)
	}
}

// sockLocalAddr is the socket's local address, or nil.
func (c *Conn) sockLocalAddr() net.Addr {
	if c.loop.portable {
		if c.rare != nil && c.rare.ns != nil {
			return c.rare.ns.conn.LocalAddr()
		}
		return nil
	}
	ap, err := sockio.LocalAddr(c.fd)
	if err != nil {
		return nil
	}
	return net.TCPAddrFromAddrPort(ap)
}

// connHandler is a Conn as its loop sees it: the handler of its socket's
// readiness (a type of its own, so that OnEvents is no method of Conn).
type connHandler Conn

// OnEvents dispatches the socket's readiness: to the connect in progress,
// else to the read path, then to the write path.
func (h *connHandler) OnEvents(_ int, ev evloop.Events) {
	c := (*Conn)(h)
	if c.state == stateConnecting {
		c.connectEvent(ev)
		return
	}
	if ev&(evloop.Readable|evloop.Hangup|evloop.Error) != 0 {
		if c.rxPaused || c.rxHeld {
			if ev&(evloop.Hangup|evloop.Error) != 0 && ev&evloop.Readable == 0 {
				c.closeNow()
				return
			}
		} else {
			c.readable()
		}
	}
	if c.state != stateDead && ev&evloop.Writable != 0 {
		c.writable()
	}
	c.sockRearm(ev)
}

// wantEvents is what the poller should watch for this connection.
func (c *Conn) wantEvents() evloop.Events {
	var ev evloop.Events
	if !c.rxPaused && !c.rxHeld && !c.rxEnded {
		ev |= evloop.Readable
	}
	if c.outOff < len(c.out) || c.streaming() || (c.wantWriteable || c.sq.waiting()) && c.state == stateWS || c.tlsHandshakeOut() {
		ev |= evloop.Writable
	}
	return ev
}

func (c *Conn) updateEvents() {
	if c.state == stateDead {
		return
	}
	if ev := c.wantEvents(); ev != c.events {
		c.sockWatch(ev)
	}
}

// Input. A connection's bytes come from three sources, and input is the
// one place that decides which goes next, whatever the mix of user pause
// (PauseRx), library hold (output backpressure, an HTTP answer in
// progress), TLS and external poll:
//
//  1. kept bytes: what was read but not consumed because reading was
//     paused or held part way through a read (c.rare.pending);
//  2. plaintext the TLS session has already decrypted (tlsRead reads the
//     session before the socket);
//  3. the socket.
//
// Every path that consumes input goes through readable, readiness events
// and the resumption after a pause alike, so bytes kept earlier are always
// consumed before anything newer.

// input returns the connection's next input: the bytes kept while reading
// was paused or held (kept is true, and the caller returns the buffer to
// the loop's pool once consumed), else what is read into buf: TLS
// plaintext, then the socket. Its errors are sockRead's: io.EOF at the end
// of the stream, sockio.ErrAgain when nothing is available.
func (c *Conn) input(buf []byte) (b []byte, kept bool, err error) {
	if c.hasPending() {
		b = c.rare.pending
		c.rare.pending = nil
		return b, true, nil
	}
	var n int
	if c.tls != nil {
		n, err = c.tlsRead(buf)
	} else {
		n, err = c.sockRead(buf)
	}
	if n > 0 {
		return buf[:n], false, nil
	}
	return nil, false, err
}

// hasPending reports whether received bytes wait while reading is held.
func (c *Conn) hasPending() bool { return c.rare != nil && len(c.rare.pending) > 0 }

// keep holds input that cannot be consumed now (reading was paused or held
// part way through it) until reading resumes; input hands it out first.
func (c *Conn) keep(b []byte) {
	r := c.rareState()
	r.pending = c.appendPooled(r.pending, b)
}

// dropKept discards kept input (the connection is closing or gone).
func (c *Conn) dropKept() {
	if c.hasPending() {
		c.loop.putBuf(c.rare.pending)
	}
	if c.rare != nil {
		c.rare.pending = nil
	}
}

// Output. The write path appends whole frames (or HTTP bytes) to the
// output queue, and flush sends them as the socket takes them; a large
// frame on a plain socket may skip the copy (sendDirect).

// unsent is the number of queued bytes the socket has not taken.
func (c *Conn) unsent() int { return len(c.out) - c.outOff }

// transmit writes b, or a first part of it, to the peer: through the TLS
// session or straight to the socket. It returns how many bytes of b are
// done, or sockio.ErrAgain.
func (c *Conn) transmit(b []byte) (int, error) {
	if c.tls != nil {
		return c.tlsWrite(b)
	}
	return c.sockWrite(b)
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

// sendDirect sends the queued bytes (replies deferred within a read
// batch), then header and payload where the caller has them, with one
// writev on a plain socket. Only what the socket does not take is copied
// into the queue, and flush goes on from there (meeting any error the
// writev met).
func (c *Conn) sendDirect(header, payload []byte) {
	queued := c.out[c.outOff:]
	n, _ := c.sockWritev(queued, header, payload)
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

// flush writes queued bytes (and the rest of a streamed file) until the
// socket would block, then watches for writability. On a write error the
// connection is closed from a posted function, never under the caller's
// feet.
func (c *Conn) flush() {
	for {
		for c.outOff < len(c.out) {
			n, err := c.transmit(c.out[c.outOff:])
			if n > 0 {
				c.outOff += n
				c.wroteSome()
				continue
			}
			if err == sockio.ErrAgain {
				c.watchStall()
				c.updateEvents()
				return
			}
			c.logInfo("write: %v", err)
			c.outOff = len(c.out)
			c.state = stateDraining
			_ = c.loop.ev.Post(c.closeNow)
			return
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
	if !c.deadlineOn && (c.state == stateClosing || c.state == stateDraining) {
		c.setDeadline(c.loop.svc.limits.CloseTimeout) // all sent: startCloseDeadline
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
	if c.tlsWritable() { // handshake output
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

// The buffer pool. Output queues, kept input, reassembled and compressed
// messages are buffers of the loop's pool, so an idle connection holds
// none and a busy one reuses what another released.

const (
	maxPooledBuffer   = 4 << 20 // larger buffers are left to the collector
	maxPooledBuffers  = 256
	maxPoolBytes      = 16 << 20 // the pool's capacity in all
	minWriteBufferCap = 4 << 10
)

// getBuf is an empty buffer with room for n bytes: the last pooled one
// big enough, or a new one.
func (l *serviceLoop) getBuf(n int) []byte {
	for i := len(l.bufs.items) - 1; i >= 0; i-- {
		if cap(l.bufs.items[i]) >= n {
			b := l.bufs.take(i)
			l.bufBytes -= cap(b)
			return b[:0]
		}
	}
	return make([]byte, 0, max(n, minWriteBufferCap))
}

// putBuf returns b to the pool, unless it is too big or the pool full.
func (l *serviceLoop) putBuf(b []byte) {
	if cap(b) > maxPooledBuffer || l.bufBytes+cap(b) > maxPoolBytes {
		return
	}
	if l.bufs.put(b[:0], maxPooledBuffers) {
		l.bufBytes += cap(b)
	}
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
