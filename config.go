package lws

import (
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
	// to Protocols[0] (libwebsockets' protocol 0).
	Protocols []*Protocol

	// HTTP answers plain HTTP requests (libwebsockets' LWS_CALLBACK_HTTP on
	// protocol 0). Nil serves DocumentRoot, or 404 when that is empty too.
	HTTP func(r *HTTPRequest)

	// DocumentRoot is a directory served for plain HTTP GET/HEAD requests
	// when HTTP is nil.
	DocumentRoot string

	// CheckOrigin decides whether a WebSocket handshake with the given Origin
	// header value is allowed; a refused handshake gets 403. Nil allows all.
	CheckOrigin func(origin string, r *HTTPRequest) bool

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
	// request head. Default 10s.
	HandshakeTimeout time.Duration
	// MaxMessageSize bounds one WebSocket message (1009 beyond); a
	// Protocol's own MaxMessageSize overrides it. Default 16 MiB.
	MaxMessageSize int64
	// MaxFragments bounds the frames of one message (1009 beyond).
	// Default 65536.
	MaxFragments int
	// WriteBufferSize is how many bytes may wait unsent on one connection
	// before Conn.Write refuses more with ErrWriteBufferFull. Default 4 MiB.
	WriteBufferSize int
	// CloseTimeout bounds the wait for the peer's close frame (and for
	// unsent data to drain) once a close has started. Default 5s.
	CloseTimeout time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = 8192
	}
	if l.HandshakeTimeout <= 0 {
		l.HandshakeTimeout = 10 * time.Second
	}
	if l.MaxMessageSize <= 0 {
		l.MaxMessageSize = 16 << 20
	}
	if l.MaxFragments <= 0 {
		l.MaxFragments = 65536
	}
	if l.WriteBufferSize <= 0 {
		l.WriteBufferSize = 4 << 20
	}
	if l.CloseTimeout <= 0 {
		l.CloseTimeout = 5 * time.Second
	}
	return l
}
