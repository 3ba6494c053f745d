package lws

// A blocking client for ordinary Go programs on top of the service loop:
// Dial opens a client connection on a Service (a shared one, run on its own
// goroutine, unless DialOptions.Service names one) and waits for the
// handshake; the ClientConn it returns reads and writes whole messages.
// The connection itself lives on the loop like any other; the methods here
// talk to it only through posted functions and channels.

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// DialOptions are the options of Dial. The zero value (or nil) dials with
// no subprotocol, no extra header and the environment's proxy settings.
type DialOptions struct {
	// Protocols are the subprotocols offered, in order of preference;
	// ClientConn.Subprotocol is the server's choice.
	Protocols []string
	// Origin, when not empty, is sent as the Origin header.
	Origin string
	// Host overrides the Host header.
	Host string
	// Header holds extra request header fields (see ClientInfo.Header).
	Header http.Header
	// Proxy and NoProxy are as in ClientInfo.
	Proxy   string
	NoProxy bool
	// MaxMessageSize caps a received message (1009 beyond); 0 means the
	// service's Limits.MaxMessageSize.
	MaxMessageSize int64
	// Compression offers permessage-deflate (RFC 7692) with these
	// options; nil offers no extension.
	Compression *Compression
	// TLSConfig configures TLS for wss:// URLs (see ClientInfo.TLSConfig).
	TLSConfig *tls.Config
	// NetDialContext, when not nil, opens the TCP connection in place of
	// the loop's own connect: it is called on Dial's goroutine with Dial's
	// ctx (bounded by DefaultConnectTimeout), network "tcp" and the
	// server's (or the proxy's) "host:port", and may return any
	// net.Conn: one with a socket of its own (*net.TCPConn,
	// *net.UnixConn) is taken over by the loop; any other is bridged by
	// two goroutines, as Service.Upgrade bridges TLS. Return the plain
	// connection: TLS for a wss:// URL, and a proxy's CONNECT, run over
	// it. RemoteAddr and LocalAddr are then the net.Conn's.
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// Service runs the connection. It must be running (Service.Run) and
	// stay so while the connection is used. nil means a service shared by
	// all such Dials, run on a goroutine of its own while any of its
	// connections is open.
	Service *Service
}

// CloseError is how a connection ended, as ReadMessage, WriteMessage and
// Close report it. Origin says whose close code Code is:
//
//   - ClosedByPeer: the peer's close frame. Code and Reason are what it
//     sent (CloseNoStatus, 1005, for a frame without a code), also when it
//     was the answer to ours (Close, a service shutdown).
//   - FailedLocally: this side failed the connection for what the peer
//     did, and Code and Reason are those of the close frame it sent:
//     CloseProtocolError (1002) for a frame RFC 6455 forbids,
//     CloseInvalidPayload (1007) for text that is not UTF-8 or a message
//     that does not inflate, CloseMessageTooBig (1009) for a message over
//     the size limit. ClosePolicyViolation (1008) "write stalled" means
//     the peer took none of our output for Limits.WriteStallTimeout: the
//     connection was dropped without a close frame, none could be sent.
//   - EndedAbnormally: no close frame came from the peer, and we sent none
//     it answered: Code is CloseAbnormal (1006). The peer closed the TCP
//     connection or it broke, or the peer did not answer the keepalive
//     PING (Reason "keepalive timeout") or our close frame in time.
//
// A failure is reported in stream order: ReadMessage returns every message
// received before the offending frame, then the *CloseError; only then
// is our close frame sent (see ReadMessage).
type CloseError struct {
	Code   CloseCode
	Reason string
	Origin CloseOrigin
}

// CloseOrigin says whose close code a CloseError holds.
type CloseOrigin uint8

const (
	// ClosedByPeer: the code of the peer's close frame.
	ClosedByPeer CloseOrigin = iota + 1
	// FailedLocally: the code this side failed the connection with.
	FailedLocally
	// EndedAbnormally: no close frame; the code is CloseAbnormal (1006).
	EndedAbnormally
)

func (o CloseOrigin) String() string {
	switch o {
	case ClosedByPeer:
		return "closed by the peer"
	case FailedLocally:
		return "failed locally"
	case EndedAbnormally:
		return "ended without a close frame"
	}
	return "unknown origin"
}

func (e *CloseError) Error() string {
	var s string
	switch e.Origin {
	case ClosedByPeer:
		s = fmt.Sprintf("lws: the peer closed the connection with %d (%v)", int(e.Code), e.Code)
	case FailedLocally:
		s = fmt.Sprintf("lws: connection failed with %d (%v)", int(e.Code), e.Code)
	case EndedAbnormally:
		s = fmt.Sprintf("lws: connection ended without a close frame (%d)", int(e.Code))
	default:
		s = fmt.Sprintf("lws: connection closed with %d (%v)", int(e.Code), e.Code)
	}
	if e.Reason != "" {
		s += fmt.Sprintf(": %q", e.Reason)
	}
	return s
}

// closeErrorOf is the CloseError of a connection that ended with code and
// reason (OnClosed, loop only).
func closeErrorOf(c *Conn, code CloseCode, reason string) *CloseError {
	origin := FailedLocally
	switch {
	case code == CloseAbnormal:
		origin = EndedAbnormally
	case c.peerClosed:
		origin = ClosedByPeer
	}
	return &CloseError{Code: code, Reason: reason, Origin: origin}
}

// Flow control of received messages: over dialHighWater bytes not yet read
// with ReadMessage, reading from the socket stops (rx flow control) until
// the backlog is under dialLowWater, so a reader that does not keep up
// slows the server instead of growing memory.
const (
	dialHighWater = 4 << 20
	dialLowWater  = 1 << 20
)

// ClientConn is a client WebSocket connection for blocking use: one
// goroutine may call ReadMessage while any number of goroutines call
// WriteMessage; Close may be called from any goroutine, any number of
// times. Close must be called to release the connection.
type ClientConn struct {
	svc         *Service
	conn        *Conn
	release     func()
	subprotocol string
	response    *http.Response
	remote      net.Addr
	local       net.Addr

	established chan struct{} // closed by OnEstablished
	done        chan struct{} // closed when the connection has ended
	endErr      error         // why; set before done is closed

	mu       sync.Mutex
	inbox    []inMessage
	bytes    int
	avail    chan struct{} // cap 1: a message or the failure arrived
	paused   bool          // reading stopped for the backlog or the failure (mu)
	resuming bool          // a resume is posted to the loop (mu)
	failure  *CloseError   // the connection failed after the messages in inbox (mu)
	failed   bool          // the reader reached the failure: the close frame is posted (mu)

	pingSeq atomic.Uint64 // the last PING's number (dial_ping.go)

	closeOnce   sync.Once
	closeErr    error       // Close's result
	localClosed atomic.Bool // Close was called: input is discarded

	// loop only
	writes []*writeReq // waiting for the socket to drain
	pings  []pingWait  // PINGs sent and not answered, in the order sent (dial_ping.go)
	ended  bool
}

type inMessage struct {
	mode WriteMode // WriteText or WriteBinary
	data []byte
}

// writeReq is one WriteMessage. state: 0 waiting, 1 taken by the loop,
// 2 abandoned by the caller (the loop never touches data then).
type writeReq struct {
	data  []byte
	mode  WriteMode
	state atomic.Uint32
	res   chan error
	pong  chan struct{} // a PING's: closed when the answer came (dial_ping.go)
}

// Dial opens a WebSocket connection to url ("ws://host[:port]/path") and
// waits for the opening handshake. ctx bounds name resolution, the
// connect and the handshake: when it ends first, the attempt is abandoned,
// everything it held is released and ctx's error returned. Handshake
// failures are *HandshakeError.
//
// The connection runs on a service loop like a server connection: it
// costs no goroutine of its own while no method waits.
func Dial(ctx context.Context, url string, opts *DialOptions) (*ClientConn, error) {
	if opts == nil {
		opts = &DialOptions{}
	}
	svc, release, err := acquireDialService(opts.Service)
	if err != nil {
		return nil, err
	}
	cc := &ClientConn{
		svc:         svc,
		release:     release,
		established: make(chan struct{}),
		done:        make(chan struct{}),
		avail:       make(chan struct{}, 1),
	}
	info := ClientInfo{
		URL:       url,
		Host:      opts.Host,
		Origin:    opts.Origin,
		Protocols: opts.Protocols,
		Protocol:  cc.protocol(opts.MaxMessageSize, opts.Compression),
		Header:    opts.Header,
		TLSConfig: opts.TLSConfig,
		Proxy:     opts.Proxy,
		NoProxy:   opts.NoProxy,
		User:      cc,
	}
	if err := ctx.Err(); err != nil {
		release()
		return nil, err
	}
	var prepare func(*clientState) error
	if opts.NetDialContext != nil {
		prepare = func(cs *clientState) error { return netDial(ctx, opts.NetDialContext, cs) }
	}
	c, err := svc.connect(info, prepare)
	if err != nil {
		release()
		return nil, err
	}
	cc.conn = c
	select {
	case <-cc.established:
		return cc, nil
	case <-cc.done:
		release()
		return nil, cc.endErr
	case <-ctx.Done():
	}
	// Abandon the attempt on the loop and wait until it is gone (prompt:
	// the loop closes the socket and cancels the name lookup at once).
	if c.Post(c.abandon) == nil {
		<-cc.done
	}
	release()
	return nil, ctx.Err()
}

// abandon closes a connection a caller of Dial gave up on.
func (c *Conn) abandon() {
	switch c.state {
	case stateDead:
	case stateConnecting, stateClientHandshake:
		c.failClient(context.Canceled)
	default:
		c.closeNow()
	}
}

// protocol makes the callbacks that connect the loop to cc.
func (cc *ClientConn) protocol(maxMessage int64, comp *Compression) *Protocol {
	return &Protocol{
		Reassemble:     true,
		pacedWrites:    true,
		MaxMessageSize: maxMessage,
		Compression:    comp,
		OnEstablished: func(c *Conn) {
			cc.subprotocol = c.Subprotocol()
			cc.response = c.cl.response
			cc.remote, cc.local = c.clientAddrs()
			close(cc.established)
		},
		OnPong: func(c *Conn, payload []byte) { cc.pong(payload) },
		OnReceive: func(c *Conn, data []byte) {
			mode := WriteText
			if c.IsBinary() {
				mode = WriteBinary
			}
			msg := inMessage{mode: mode, data: append([]byte(nil), data...)}
			cc.mu.Lock()
			if cc.localClosed.Load() { // Close discards what was not read
				cc.mu.Unlock()
				return
			}
			cc.inbox = append(cc.inbox, msg)
			cc.bytes += len(msg.data)
			pause := cc.bytes > dialHighWater && !cc.paused
			if pause {
				cc.paused = true
			}
			cc.mu.Unlock()
			if pause {
				c.PauseRx()
			}
			cc.wake()
		},
		// Reading has stopped at the offending frame (failProtocol): the
		// failure waits behind the messages received before it.
		failInOrder: func(c *Conn, code CloseCode, reason string) {
			cc.mu.Lock()
			cc.failure = &CloseError{Code: code, Reason: reason, Origin: FailedLocally}
			cc.paused = true // for good: resume never restarts a failed reader
			cc.mu.Unlock()
			cc.wake()
		},
		OnWriteable: func(c *Conn) { cc.pumpWrites(c) },
		OnClosed: func(c *Conn, code CloseCode, reason string) {
			cc.end(closeErrorOf(c, code, reason))
		},
		OnConnectionError: func(c *Conn, err error) { cc.end(err) },
	}
}

// wake tells a waiting ReadMessage that the inbox changed.
func (cc *ClientConn) wake() {
	select {
	case cc.avail <- struct{}{}:
	default:
	}
}

// end records how the connection ended and wakes every waiter (loop
// only). A failure reported in stream order is how it ended, whatever
// happened after it.
func (cc *ClientConn) end(err error) {
	if cc.ended {
		return
	}
	cc.ended = true
	cc.mu.Lock()
	if cc.failure != nil {
		err = cc.failure
	}
	cc.mu.Unlock()
	cc.endErr = err
	if cc.localClosed.Load() {
		err = ErrClosed
	}
	for _, w := range cc.writes {
		if w.state.CompareAndSwap(0, 1) {
			w.res <- err
		}
	}
	cc.writes = nil
	close(cc.done)
}

// Subprotocol is the subprotocol the server selected ("" for none).
func (cc *ClientConn) Subprotocol() string { return cc.subprotocol }

// Response is the server's handshake response: its status (101), protocol
// version and header fields (Set-Cookie ones included: see
// http.Response.Cookies). It has no body (http.NoBody) and no Request.
// The caller must not modify it.
func (cc *ClientConn) Response() *http.Response { return cc.response }

// RemoteAddr is the address the connection goes to: the server's, or the
// proxy's when it is tunnelled through one, or what the
// DialOptions.NetDialContext connection reports.
func (cc *ClientConn) RemoteAddr() net.Addr { return cc.remote }

// LocalAddr is the connection's local address (nil if it could not be
// read from the socket).
func (cc *ClientConn) LocalAddr() net.Addr { return cc.local }

// ReadMessage waits for the next whole message and returns its type
// (WriteText or WriteBinary, the modes it would be sent with) and payload,
// which the caller owns.
//
// Messages and the end of the connection come in stream order: once every
// message received before the end has been read, ReadMessage returns the
// *CloseError saying how the connection ended, and goes on returning it.
// When the connection fails for what the peer sent (a frame RFC 6455
// forbids, a message too big, text that is not UTF-8), reading stops at
// the offending frame, and the call that finds no message before it is
// the one that fails the connection: our close frame is sent then, after
// whatever was written before (an echo of the last message read goes out
// first), and the *CloseError (Origin FailedLocally) is returned at once,
// without waiting for the closing handshake.
//
// After Close it returns ErrClosed. When ctx ends first it returns ctx's
// error and the connection stays usable. Only one goroutine may read at a
// time.
func (cc *ClientConn) ReadMessage(ctx context.Context) (WriteMode, []byte, error) {
	for {
		if cc.localClosed.Load() {
			return 0, nil, ErrClosed
		}
		// Seen before the inbox is: every message of an ended connection
		// is in the inbox then.
		ended := isClosed(cc.done)
		cc.mu.Lock()
		if len(cc.inbox) > 0 {
			m := cc.inbox[0]
			cc.inbox[0] = inMessage{}
			cc.inbox = cc.inbox[1:]
			cc.bytes -= len(m.data)
			resume := cc.paused && !cc.resuming && cc.failure == nil && cc.bytes < dialLowWater
			if resume {
				cc.resuming = true
			}
			cc.mu.Unlock()
			if resume {
				_ = cc.conn.Post(cc.resume)
			}
			return m.mode, m.data, nil
		}
		if f := cc.failure; f != nil {
			first := !cc.failed
			cc.failed = true
			cc.mu.Unlock()
			if first {
				_ = cc.conn.Post(func() { cc.conn.fail(f.Code, f.Reason) })
			}
			return 0, nil, f
		}
		cc.mu.Unlock()
		if ended {
			return 0, nil, cc.endErr
		}
		select {
		case <-cc.avail:
		case <-cc.done:
		case <-ctx.Done():
			return 0, nil, ctx.Err()
		}
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// resume restarts reading once the backlog is low (loop only). The
// decisions to pause and to resume are both taken under mu, so a reader
// that empties the inbox while the loop pauses cannot miss the resume.
func (cc *ClientConn) resume() {
	cc.mu.Lock()
	cc.resuming = false
	resume := cc.paused && cc.failure == nil && cc.bytes < dialLowWater
	if resume {
		cc.paused = false
	}
	cc.mu.Unlock()
	if resume {
		cc.conn.ResumeRx()
	}
}

// WriteMessage sends data as one message of type mode (WriteText or
// WriteBinary). It returns once the message is handed to the
// connection, waiting while too much is already unsent
// (Limits.WriteBufferSize); data is not used after it returns. Safe for
// concurrent use; concurrent messages go out whole, one after the other.
// When ctx ends before the message was taken, nothing of it is sent and
// ctx's error is returned.
//
// Once the connection has ended, or failed (see ReadMessage), it returns
// the *CloseError saying how; after Close, or while a closing handshake is
// under way, ErrClosed.
func (cc *ClientConn) WriteMessage(ctx context.Context, mode WriteMode, data []byte) error {
	if mode != WriteText && mode != WriteBinary {
		return fmt.Errorf("lws: WriteMessage takes WriteText or WriteBinary, not %v", mode)
	}
	return cc.write(ctx, &writeReq{data: data, mode: mode})
}

// write is WriteMessage for any frame w holds.
func (cc *ClientConn) write(ctx context.Context, w *writeReq) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w.res = make(chan error, 1)
	if err := cc.conn.Post(func() { cc.queueWrite(w) }); err != nil {
		return cc.closedErr()
	}
	select {
	case err := <-w.res:
		return err
	case <-ctx.Done():
		if w.state.CompareAndSwap(0, 2) {
			return ctx.Err()
		}
		return <-w.res
	case <-cc.done:
		if w.state.CompareAndSwap(0, 2) {
			return cc.closedErr()
		}
		return <-w.res
	}
}

// closedErr is the error of a write the connection can no longer take.
func (cc *ClientConn) closedErr() error {
	if cc.localClosed.Load() {
		return ErrClosed
	}
	cc.mu.Lock()
	f := cc.failure
	if !cc.failed {
		f = nil
	}
	cc.mu.Unlock()
	if f != nil {
		return f
	}
	if isClosed(cc.done) && cc.endErr != nil {
		return cc.endErr
	}
	return ErrClosed
}

// queueWrite runs on the loop: write now when nothing waits and the
// connection can take it, else wait for OnWriteable.
func (cc *ClientConn) queueWrite(w *writeReq) {
	cc.writes = append(cc.writes, w)
	cc.pumpWrites(cc.conn)
}

// pumpWrites writes waiting messages in order while the connection takes
// them (loop only).
func (cc *ClientConn) pumpWrites(c *Conn) {
	limit := c.loop.svc.limits.WriteBufferSize
	for len(cc.writes) > 0 {
		w := cc.writes[0]
		if w.state.Load() == 2 {
			cc.writes = cc.writes[1:]
			continue
		}
		if c.state != stateWS {
			if w.state.CompareAndSwap(0, 1) {
				w.res <- cc.closedErr()
			}
			cc.writes = cc.writes[1:]
			continue
		}
		if pending := c.unsent(); pending > 0 && pending+len(w.data) > limit {
			c.RequestWriteable()
			return
		}
		cc.writes = cc.writes[1:]
		if w.state.CompareAndSwap(0, 1) {
			err := c.Write(w.data, w.mode)
			if err == nil && w.pong != nil {
				cc.sentPing(w)
			}
			w.res <- err
		}
	}
	if len(cc.writes) == 0 {
		cc.writes = nil
	}
}

// Close starts the closing handshake with code and reason and waits until
// the connection has ended (the server answered, or Limits.CloseTimeout
// passed), then releases it. Messages not yet read are discarded, and so
// is what arrives until the server's close frame: reading goes on, also
// when it had stopped because the reader fell behind, so the answer is
// seen at once. A failure ReadMessage has not reported yet is sent
// instead of code and reason.
//
// It returns nil when the server answered with its close frame (or had
// closed first), else the *CloseError saying how the connection ended:
// EndedAbnormally when no answer came, FailedLocally when it failed. Later
// calls return the same at once.
func (cc *ClientConn) Close(code CloseCode, reason string) error {
	cc.closeOnce.Do(func() {
		cc.localClosed.Store(true)
		cc.mu.Lock()
		clear(cc.inbox)
		cc.inbox, cc.bytes = nil, 0
		cc.mu.Unlock()
		cc.wake() // a waiting ReadMessage returns ErrClosed
		// When the post is refused the connection is already ending on
		// its loop (or its service closed every connection before its
		// loop stopped): done is closed either way, soon.
		_ = cc.conn.Post(func() { cc.closeOnLoop(code, reason) })
		<-cc.done
		if ce, ok := cc.endErr.(*CloseError); ok && ce.Origin != ClosedByPeer {
			cc.closeErr = ce
		}
		cc.release()
	})
	return cc.closeErr
}

// closeOnLoop is Close on the loop: the close frame (or the failure that
// waited for the reader), then reading into the discard of a closing
// connection until the server's close frame arrives.
func (cc *ClientConn) closeOnLoop(code CloseCode, reason string) {
	c := cc.conn
	cc.mu.Lock()
	f := cc.failure
	cc.mu.Unlock()
	if f != nil {
		c.fail(f.Code, f.Reason)
	} else {
		c.Close(code, reason)
		c.ResumeRx()
	}
	cc.pumpWrites(c) // writes still waiting fail
}

// The shared service of Dial: created by the first Dial, run on its own
// goroutine, closed when its last ClientConn is closed.
var dialShared struct {
	mu   sync.Mutex
	svc  *Service
	refs int
	done chan error
}

// acquireDialService returns the service to dial on and the function that
// releases it.
func acquireDialService(svc *Service) (*Service, func(), error) {
	if svc != nil {
		return svc, func() {}, nil
	}
	d := &dialShared
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.svc == nil {
		s, err := New(Config{})
		if err != nil {
			return nil, nil, err
		}
		done := make(chan error, 1)
		go func() { done <- s.Run() }()
		d.svc, d.done = s, done
	}
	d.refs++
	s := d.svc
	var once sync.Once
	return s, func() { once.Do(releaseDialService) }, nil
}

func releaseDialService() {
	d := &dialShared
	d.mu.Lock()
	d.refs--
	if d.refs > 0 {
		d.mu.Unlock()
		return
	}
	s, done := d.svc, d.done
	d.svc, d.done = nil, nil
	d.mu.Unlock()
	s.Close()
	<-done
}
