package lws

import (
	"crypto/tls"
	"time"

	"github.com/lws-go/lws/evloop"
)

// DefaultPort is the port of libwebsockets' test apps.
const DefaultPort = 7681

// Config describes a Service (libwebsockets' context creation info). The zero
// value is usable: it listens on nothing and serves client connections only.
type Config struct {
	// Addr is the "host:port" to listen on. Empty means no listener
	// (a client-only service). Port 0 picks a free port; see Service.Addr.
	Addr string

	// Protocols are the WebSocket subprotocols served, in order of
	// preference when choosing. A handshake that names no subprotocol binds
	// to Protocols[0] (libwebsockets' protocol 0), or, when protocols have
	// a Path, to the first one serving its request path (Protocol.Path).
	Protocols []*Protocol

	// HTTP answers plain HTTP requests (libwebsockets' LWS_CALLBACK_HTTP on
	// protocol 0). Nil serves DocumentRoot, or 404 when that is empty too.
	HTTP func(r *HTTPRequest)

	// DocumentRoot is a directory served for plain HTTP GET/HEAD requests
	// when HTTP is nil.
	DocumentRoot string

	// CheckOrigin decides whether a WebSocket handshake with the given Origin
	// header value ("" when absent) is allowed; a refused handshake gets
	// 403. It replaces the default check, which allows a handshake without
	// Origin (non-browser clients), one whose Origin names the host and
	// port of the request's Host header (a page this server served), and
	// one whose Origin is in AllowedOrigins, and refuses every other
	// (cross-origin browser pages, "null") to stop cross-site WebSocket
	// hijacking. See origin.go. For an upgrade from net/http
	// (Service.Upgrade) it runs on the handler's goroutine and r.Conn() is
	// nil.
	CheckOrigin func(origin string, r *HTTPRequest) bool

	// AllowedOrigins are further origins the default Origin check accepts,
	// as browsers send them ("https://app.example.com", compared without
	// regard to case); "*" accepts every origin. Unused when CheckOrigin is
	// set.
	AllowedOrigins []string

	// MaxConns caps the connection table; 0 means the table is sized from
	// the soft RLIMIT_NOFILE minus the descriptors already open (capped at
	// evloop.DefaultTableCap).
	MaxConns int

	// Loops is the number of service loops ("service threads"); 0 means 1.
	Loops int

	// External, when set, makes the service run no loop of its own: the fds
	// it needs watched are reported through these notifications and the
	// caller drives the service with Service.ServiceFD and
	// Service.ServiceTimers (libwebsockets' external poll loop support).
	External *evloop.External

	// Backend selects how the loops learn that connections have work: the
	// zero value is epoll on Linux, poll(2) on the other unix systems and
	// the portable backend on Windows. BackendPoll forces poll(2) on
	// Linux; BackendPortable serves every connection's net.Conn with a
	// reader and a writer goroutine that notify the loop, as on Windows
	// (about 10 KiB more per connection). External needs an fd backend.
	Backend Backend

	// TLS serves every accepted connection with TLS (https:// and wss://;
	// libwebsockets' ssl_cert_filepath and ssl_private_key_filepath):
	// tlsconn.ServerConfig makes one from PEM files. ALPN defaults to
	// http/1.1 and the minimum version to TLS 1.2. nil serves plain TCP.
	TLS *tls.Config

	// Limits bound what a peer can make the service hold. Zero fields take
	// the defaults documented on Limits.
	Limits Limits
}

// Limits bound the resources one connection can take. A zero field means the
// documented default.
type Limits struct {
	// MaxHeaderBytes bounds the HTTP request line plus headers (431 beyond).
	// Default 8192.
	MaxHeaderBytes int
	// HandshakeTimeout bounds the time from accept to a complete HTTP
	// request head. Default 10s. Like CloseTimeout it is checked by the
	// loop's sweep (keepalive.go), so a connection is closed after at
	// least this long and at most a quarter of it (capped at 1s) later.
	HandshakeTimeout time.Duration
	// MaxMessageSize bounds one WebSocket message (1009 beyond); a
	// Protocol's own MaxMessageSize overrides it. Default 16 MiB.
	MaxMessageSize int64
	// MaxFragments bounds fragment floods: a message may have as many
	// frames as payload bytes, plus MaxFragments (1009 beyond). A message
	// within MaxMessageSize thus passes however finely it is split; what
	// is refused is a run of empty frames. Default 65536.
	MaxFragments int
	// WriteBufferSize is how many bytes may wait unsent on one connection
	// before Conn.Write refuses more with ErrWriteBufferFull. Beyond it the
	// connection is not read either (a WebSocket's frames, a plain HTTP
	// client's next pipelined request) until half of it has drained.
	// Default 4 MiB.
	WriteBufferSize int
	// CloseTimeout bounds the wait for the peer's close frame, or for the
	// end of a lingering close, once a close has started and everything
	// queued before it has been sent: a large answer to a slow but steady
	// reader is not cut, a peer that stops reading meanwhile is dropped by
	// WriteStallTimeout (with that off, CloseTimeout counts from the start
	// of the close). Default 5s.
	CloseTimeout time.Duration

	// PingInterval is the idle limit and keepalive (libwebsockets'
	// "connection validity", secs_since_valid_ping): a WebSocket connection,
	// server or client, that has received nothing for this long is sent a
	// PING, and one still silent PongTimeout later is dropped (OnClosed
	// reports 1006 "keepalive timeout"). Anything received counts as an
	// answer, and a peer that answers PINGs stays however long it sends no
	// message. Protocol.PingInterval overrides it. Default 30s; negative
	// turns keepalive off.
	PingInterval time.Duration
	// PongTimeout is how long the keepalive PING may go unanswered
	// (secs_since_valid_hangup less secs_since_valid_ping). Default 20s.
	PongTimeout time.Duration
	// WriteStallTimeout bounds how long a connection may keep queued
	// output while its socket takes none of it (a peer that stopped
	// reading), or wait for an OnWriteable or its send queue while the
	// socket stays unwritable: it is then dropped, and a WebSocket's
	// OnClosed reports 1008 "write stalled". It holds in every state,
	// closing and draining ones too.
	// While more than WriteBufferSize bytes are queued the connection is
	// not read (rx flow control), so a peer flooding PINGs without reading
	// the PONGs cannot grow the queue without bound.
	// Default 30s; negative turns the limit off.
	WriteStallTimeout time.Duration
	// SendQueueSize bounds the bytes of messages queued on one connection
	// by Conn.Send and Service.Broadcast and not yet handed to the socket.
	// Default 4 MiB. What happens beyond it is SendQueueOverflow.
	SendQueueSize int
	// SendQueueOverflow is the policy for a message that would take a
	// connection's send queue over SendQueueSize. Default OverflowDrop.
	SendQueueOverflow OverflowPolicy
	// BroadcastBacklog bounds the bytes of Service.Broadcast messages
	// waiting for one loop to queue them on its connections (each counted
	// once per loop, plus 64 bytes of overhead): when goroutines broadcast
	// faster than a loop hands messages out, Broadcast returns
	// ErrBroadcastBacklog beyond it. Default 16 MiB.
	BroadcastBacklog int
}

func (l Limits) withDefaults() Limits {
	orDefault(&l.MaxHeaderBytes, 8192)
	orDefault(&l.HandshakeTimeout, 10*time.Second)
	orDefault(&l.MaxMessageSize, 16<<20)
	orDefault(&l.MaxFragments, 65536)
	orDefault(&l.WriteBufferSize, 4<<20)
	orDefault(&l.CloseTimeout, 5*time.Second)
	orDefault(&l.SendQueueSize, 4<<20)
	orDefault(&l.BroadcastBacklog, 16<<20)
	orDefault(&l.PongTimeout, 20*time.Second)
	// A negative interval or stall timeout turns the feature off; only an
	// unset one takes the default.
	if l.PingInterval == 0 {
		l.PingInterval = 30 * time.Second
	}
	if l.WriteStallTimeout == 0 {
		l.WriteStallTimeout = 30 * time.Second
	}
	return l
}

// orDefault sets *p to def when it is unset (zero or negative).
func orDefault[T ~int | ~int64](p *T, def T) {
	if *p <= 0 {
		*p = def
	}
}
