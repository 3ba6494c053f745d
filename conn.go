package lws

import (
	"net/netip"
	"os"
	"time"

	"github.com/lws-go/lws/evloop"
	"github.com/lws-go/lws/wsproto"
	"golang.org/x/sys/unix"
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
	loop   *serviceLoop
	fd     int
	state  connState
	client bool
	proto  *Protocol
	user   any
	remote netip.AddrPort
	path   string // request path and query of the handshake
	query  string

	prev, next *Conn // the loop's connection list

	events evloop.Events // what the poller watches now

	// read side
	parser      wsproto.Parser
	http        *httpState // plain HTTP phase only
	pending     []byte     // received, not yet consumed, while reading is held
	rxPaused    bool       // by the user (PauseRx)
	rxHeld      bool       // by the library: an HTTP response streaming, or output backed up (keepalive.go)
	rxFinal     bool
	rxBinary    bool
	rxRemaining int64
	msg         []byte // reassembly buffer (Protocol.Reassemble)
	msgBinary   bool

	// write side
	out           []byte // queued bytes, out[outOff:] unsent
	outOff        int
	wantWriteable bool
	inRead        bool     // inside readable: writes are queued and flushed once at its end
	file          *os.File // HTTP body being streamed
	fileLeft      int64
	keepAlive     bool // after the streamed HTTP body: read the next request
	shutWR        bool // lingering close: our side shut, discarding input

	deadline *evloop.Timer // handshake and close timeouts
	timer    *evloop.Timer // SetTimer
	ka       keepalive     // keepalive and write-stall watch (keepalive.go)

	sq sendQueue // messages from Send and Broadcast (post.go)

	cl *clientState // client connections only (client.go)

	pmd *deflateState // permessage-deflate, when negotiated (compress.go)
	tls *tlsState     // TLS, when the connection uses it (tls.go)

	established bool
	closeCode   wsproto.CloseCode
	closeReason string
}

// adopt makes an accepted socket a connection of the loop, reading its HTTP
// request head; it returns nil (fd closed) when the fd cannot be watched.
func (l *serviceLoop) adopt(fd int, remote netip.AddrPort) *Conn {
	c := &Conn{loop: l, fd: fd, remote: remote, state: stateHTTP, http: newHTTPState(l.svc.limits)}
	if err := l.ev.Add(fd, c, evloop.Readable); err != nil {
		unix.Close(fd)
		return nil
	}
	c.events = evloop.Readable
	l.conns.add(c)
	l.svc.live.Add(1)
	c.setDeadline(l.svc.limits.HandshakeTimeout, c.handshakeTimedOut)
	return c
}

// Protocol is the protocol the connection is bound to (nil before the
// WebSocket handshake).
func (c *Conn) Protocol() *Protocol { return c.proto }

// User is the per-connection value set with SetUser (libwebsockets' "user"
// per-session data).
func (c *Conn) User() any { return c.user }

// SetUser sets the per-connection value.
func (c *Conn) SetUser(v any) { c.user = v }

// RequestPath is the percent-decoded path of the handshake request.
func (c *Conn) RequestPath() string { return c.path }

// RequestQuery is the raw query of the handshake request, without '?'.
func (c *Conn) RequestQuery() string { return c.query }

// RemoteAddr is the peer's address.
func (c *Conn) RemoteAddr() netip.AddrPort { return c.remote }

// FD is the connection's socket descriptor (libwebsocket_get_socket_fd).
func (c *Conn) FD() int { return c.fd }

// Service is the service the connection belongs to.
func (c *Conn) Service() *Service { return c.loop.svc }

// IsFinalFragment reports whether the piece just delivered to OnReceive
// ends its message (libwebsocket_is_final_fragment).
func (c *Conn) IsFinalFragment() bool { return c.rxFinal }

// RemainingPayload is how many bytes of the current frame are still to come
// after the piece just delivered (libwebsockets_remaining_packet_payload).
func (c *Conn) RemainingPayload() int64 { return c.rxRemaining }

// IsBinary reports whether the message being received is binary.
func (c *Conn) IsBinary() bool { return c.rxBinary }

// Buffered is the number of bytes queued but not yet taken by the socket.
func (c *Conn) Buffered() int { return len(c.out) - c.outOff }

// PauseRx stops reading from the connection until ResumeRx
// (libwebsocket_rx_flow_control(wsi, 0)). Data already received but not yet
// delivered is kept and delivered after ResumeRx.
func (c *Conn) PauseRx() {
	c.rxPaused = true
	c.updateEvents()
}

// ResumeRx resumes reading after PauseRx.
func (c *Conn) ResumeRx() {
	if !c.rxPaused {
		return
	}
	c.rxPaused = false
	c.resumeReading()
}

// RxPaused reports whether PauseRx is in effect.
func (c *Conn) RxPaused() bool { return c.rxPaused }

// SetTimer arranges one OnTimer callback after d (lws_set_timer_usecs);
// d <= 0 cancels it. A later call replaces the earlier timer.
func (c *Conn) SetTimer(d time.Duration) {
	if c.state == stateDead {
		return
	}
	if d <= 0 {
		if c.timer != nil {
			c.timer.Stop()
		}
		return
	}
	if c.timer == nil {
		c.timer = c.loop.ev.AfterFunc(d, c.fireTimer)
		return
	}
	c.timer.Reset(d)
}

func (c *Conn) fireTimer() {
	if c.state == stateWS && c.proto.OnTimer != nil {
		c.callTimer()
	}
}

func (c *Conn) setDeadline(d time.Duration, f func()) {
	if c.deadline != nil {
		c.deadline.Stop()
	}
	c.deadline = c.loop.ev.AfterFunc(d, f)
}

func (c *Conn) clearDeadline() {
	if c.deadline != nil {
		c.deadline.Stop()
		c.deadline = nil
	}
}

// wantEvents is what the poller should watch for this connection.
func (c *Conn) wantEvents() evloop.Events {
	var ev evloop.Events
	if !c.rxPaused && !c.rxHeld {
		ev |= evloop.Readable
	}
	if c.outOff < len(c.out) || c.file != nil || (c.wantWriteable || c.sq.waiting()) && c.state == stateWS || c.tlsHandshakeOut() {
		ev |= evloop.Writable
	}
	return ev
}

func (c *Conn) updateEvents() {
	if c.state == stateDead {
		return
	}
	if ev := c.wantEvents(); ev != c.events {
		if err := c.loop.ev.Modify(c.fd, ev); err == nil {
			c.events = ev
		}
	}
}

// OnEvents is the connection's readiness handler, called by its loop.
func (c *Conn) OnEvents(fd int, ev evloop.Events) {
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
}

// closeNow closes the socket at once and reports OnClosed for an
// established connection.
func (c *Conn) closeNow() {
	if c.state == stateDead {
		return
	}
	c.state = stateDead
	c.clearDeadline()
	c.stopWatch()
	if c.timer != nil {
		c.timer.Stop()
	}
	l := c.loop
	if c.fd >= 0 { // a client connection may have none yet
		_ = l.ev.Remove(c.fd)
		unix.Close(c.fd)
	}
	l.conns.remove(c)
	if c.out != nil {
		l.putBuf(c.out)
		c.out, c.outOff = nil, 0
	}
	if c.file != nil {
		c.file.Close()
		c.file = nil
	}
	if c.msg != nil {
		l.putBuf(c.msg)
	}
	c.pending, c.msg, c.http = nil, nil, nil
	c.releaseSendQueue()
	c.releaseDeflate()
	c.releaseTLS()
	if c.established {
		code := c.closeCode
		if code == 0 {
			code = wsproto.CloseAbnormal
		}
		c.callClosed(code, c.closeReason)
	} else if c.cl != nil {
		c.clientGone()
	}
	l.svc.live.Add(-1)
	l.svc.checkDrained()
}

func (c *Conn) handshakeTimedOut() {
	if c.state == stateHTTP {
		c.logInfo("handshake timeout: closing")
		c.closeNow()
	}
}

func (c *Conn) closeTimedOut() {
	if c.state != stateDead {
		c.logInfo("close timeout in state %v: closing", c.state)
		c.closeNow()
	}
}
