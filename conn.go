package lws

import (
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/lws-go/lws/evloop"
	"github.com/lws-go/lws/wsproto"
)

// connState is where a connection is in its life.
type connState uint8

const (
	stateHTTP            connState = iota // reading HTTP request heads, serving HTTP
	stateWS                               // WebSocket established
	stateClosing                          // we sent a close frame; waiting for the peer's
	stateDraining                         // flushing what is queued, then lingering close
	stateConnecting                       // client: resolving and connecting (client.go)
	stateClientHandshake                  // client: request sent, reading the response (client_handshake.go)
	stateDead                             // fd closed, removed from the table
)

// in reports whether s is one of the states of set, a bit set of 1<<state.
func (s connState) in(set uint32) bool { return set&(1<<s) != 0 }

func (s connState) String() string {
	switch s {
	case stateHTTP:
		return "http"
	case stateWS:
		return "established"
	case stateClosing:
		return "closing"
	case stateDraining:
		return "draining"
	case stateConnecting:
		return "connecting"
	case stateClientHandshake:
		return "client handshake"
	}
	return "dead"
}

// Conn is one connection (libwebsockets' wsi). Its methods must be called on
// its loop goroutine, that is from a callback or a function posted to it,
// unless a method says otherwise.
type Conn struct {
	loop      *serviceLoop
	transport // the socket, what the poller watches, the output queue
	proto     *Protocol
	user      any
	remote    netip.AddrPort
	target    *reqTarget // request path and query of the handshake

	prev, next *Conn // the loop's connection list

	// read side
	parser      *wsproto.Parser // while a frame or message is partly read; nil when idle
	http        *httpState      // plain HTTP phase only
	rxRemaining int64

	rare *connRare // what few connections use, allocated on first use

	sq sendQueue // messages from Send and Broadcast (post.go)

	cl *clientState // client connections only (client.go)

	pmd *deflateState // permessage-deflate, when negotiated (compress.go)
	tls *tlsState     // TLS, when the connection uses it (tls.go)

	// Small fields together, so the struct has no padding.
	ka            keepalive     // keepalive, write-stall watch and deadlines (keepalive.go)
	deadline      uint32        // tick after which the handshake, connect or close deadline has passed, while deadlineOn
	events        evloop.Events // what the poller watches now (transport.go)
	closeCode     wsproto.CloseCode
	state         connState
	client        bool
	rxPaused      bool // by the user (PauseRx)
	rxHeld        bool // by the library: an HTTP response streaming, or output backed up
	rxFinal       bool
	rxBinary      bool
	msgBinary     bool
	wantWriteable bool
	inRead        bool // inside readable: writes are queued and flushed once at its end
	keepAlive     bool // after the streamed HTTP body: read the next request
	shutWR        bool // lingering close: our side shut, discarding input
	established   bool
	stallWatch    bool // output waits for the socket: the write-stall watch is on
	pinged        bool // a keepalive PING awaits an answer since ka.pingAt
	deadlineOn    bool // a deadline runs: setDeadline
	peerClosed    bool // closeCode is the peer's close frame's
	rxEnded       bool // the socket's input ended while the connection goes on (answers still to send, a TLS handshake to finish): reading stops
}

// connRare holds a connection's state that most idle connections never
// need, so that they do not carry it.
type connRare struct {
	pending  []byte        // input kept while reading is paused or held (pooled)
	msg      []byte        // reassembly buffer (Protocol.Reassemble)
	file     *os.File      // HTTP body being streamed
	fileLeft int64         // bytes of file still to send
	timer    *evloop.Timer // SetTimer
	ns       *netSocket    // the socket on the portable backend (transport.go)

	closeReason string // reason of the close frame received or sent; set once closing
}

// assertLoop panics off the connection's loop goroutine in lwsdebug builds
// (evloop.Loop.AssertInLoop); in other builds it costs nothing. Every
// exported method that must run on the loop calls it.
func (c *Conn) assertLoop() { c.loop.ev.AssertInLoop() }

// rareState is c.rare, allocated if needed.
func (c *Conn) rareState() *connRare {
	if c.rare == nil {
		c.rare = new(connRare)
	}
	return c.rare
}

// setClose records the close code and reason the connection ends with.
func (c *Conn) setClose(code wsproto.CloseCode, reason string) {
	c.closeCode = code
	if reason != "" {
		c.rareState().closeReason = reason
	} else if c.rare != nil {
		c.rare.closeReason = ""
	}
}

// closeReasonText is the reason recorded by setClose.
func (c *Conn) closeReasonText() string {
	if c.rare == nil {
		return ""
	}
	return c.rare.closeReason
}

// streaming reports whether an HTTP body is being streamed from a file.
func (c *Conn) streaming() bool { return c.rare != nil && c.rare.file != nil }

// reqTarget is the path and query of a connection's handshake request.
type reqTarget struct{ path, query string }

// rootTarget is shared by every connection to "/" without a query.
var rootTarget = &reqTarget{path: "/"}

// setTarget records the handshake request's path and query, as copies: the
// request's strings are borrowed from the HTTP parser's buffer, which the
// next connection reuses (handshake.go).
func (c *Conn) setTarget(path, query string) {
	if path == "/" && query == "" {
		c.target = rootTarget
		return
	}
	c.target = &reqTarget{path: strings.Clone(path), query: strings.Clone(query)}
}

// Protocol is the protocol the connection is bound to (nil before the
// WebSocket handshake).
func (c *Conn) Protocol() *Protocol { return c.proto }

// User is the per-connection value set with SetUser (libwebsockets' "user"
// per-session data).
func (c *Conn) User() any {
	c.assertLoop()
	return c.user
}

// SetUser sets the per-connection value.
func (c *Conn) SetUser(v any) {
	c.assertLoop()
	c.user = v
}

// RequestPath is the percent-decoded path of the handshake request.
func (c *Conn) RequestPath() string {
	if c.target == nil {
		return ""
	}
	return c.target.path
}

// RequestQuery is the raw query of the handshake request, without '?'.
func (c *Conn) RequestQuery() string {
	if c.target == nil {
		return ""
	}
	return c.target.query
}

// RemoteAddr is the peer's address.
func (c *Conn) RemoteAddr() netip.AddrPort { return c.remote }

// FD is the connection's socket descriptor (libwebsocket_get_socket_fd).
func (c *Conn) FD() int { return c.fd }

// Service is the service the connection belongs to.
func (c *Conn) Service() *Service { return c.loop.svc }

// IsFinalFragment reports whether the piece just delivered to OnReceive
// ends its message (libwebsocket_is_final_fragment).
func (c *Conn) IsFinalFragment() bool {
	c.assertLoop()
	return c.rxFinal
}

// RemainingPayload is how many bytes of the current frame are still to come
// after the piece just delivered (libwebsockets_remaining_packet_payload).
func (c *Conn) RemainingPayload() int64 {
	c.assertLoop()
	return c.rxRemaining
}

// IsBinary reports whether the message being received is binary.
func (c *Conn) IsBinary() bool {
	c.assertLoop()
	return c.rxBinary
}

// Buffered is the number of bytes queued but not yet taken by the socket.
func (c *Conn) Buffered() int {
	c.assertLoop()
	return c.unsent()
}

// PauseRx stops reading from the connection until ResumeRx
// (libwebsocket_rx_flow_control(wsi, 0)). Data already received but not yet
// delivered is kept and delivered after ResumeRx. Called from OnReceive it
// takes effect at once: no further piece is delivered, not even the rest of
// the same frame or compressed message.
func (c *Conn) PauseRx() {
	c.assertLoop()
	c.rxPaused = true
	c.updateEvents()
}

// ResumeRx resumes reading after PauseRx.
func (c *Conn) ResumeRx() {
	c.assertLoop()
	if !c.rxPaused {
		return
	}
	c.rxPaused = false
	c.resumeReading()
}

// RxPaused reports whether PauseRx is in effect.
func (c *Conn) RxPaused() bool {
	c.assertLoop()
	return c.rxPaused
}

// SetTimer arranges one OnTimer callback after d (lws_set_timer_usecs);
// d <= 0 cancels it. A later call replaces the earlier timer.
func (c *Conn) SetTimer(d time.Duration) {
	c.assertLoop()
	if c.state == stateDead {
		return
	}
	if d <= 0 {
		if c.rare != nil && c.rare.timer != nil {
			c.rare.timer.Stop()
		}
		return
	}
	r := c.rareState()
	if r.timer == nil {
		r.timer = c.loop.ev.AfterFunc(d, c.fireTimer)
		return
	}
	r.timer.Reset(d)
}

func (c *Conn) fireTimer() {
	if c.state == stateWS && c.proto.OnTimer != nil {
		c.callTimer()
	}
}

// closeNow closes the socket at once and reports OnClosed for an
// established connection.
func (c *Conn) closeNow() {
	if c.state == stateDead {
		return
	}
	c.state = stateDead
	c.clearDeadline()
	r := c.rare
	if r != nil && r.timer != nil {
		r.timer.Stop()
	}
	l := c.loop
	c.sockClose()
	l.conns.remove(c)
	if c.out != nil {
		l.putBuf(c.out)
		c.out, c.outOff = nil, 0
	}
	c.dropKept()
	if r != nil {
		if r.file != nil {
			r.file.Close()
			r.file = nil
		}
		if r.msg != nil {
			l.putBuf(r.msg)
		}
		r.msg = nil
	}
	c.http = nil
	c.releaseSendQueue()
	c.releaseDeflate()
	c.releaseTLS()
	if c.established {
		code := c.closeCode
		if code == 0 {
			code = wsproto.CloseAbnormal
		}
		c.callClosed(code, c.closeReasonText())
	} else if c.cl != nil {
		c.clientGone()
	}
	l.svc.live.Add(-1)
	l.svc.checkDrained()
}
