package lws

import (
	"time"

	"github.com/lws-go/lws/wsproto"
)

// DefaultRxBufferSize is the most bytes one OnReceive call carries when a
// Protocol does not set RxBufferSize.
const DefaultRxBufferSize = 4096

// Protocol is a WebSocket subprotocol and its callbacks (libwebsockets'
// struct libwebsocket_protocols). Every callback runs on the connection's
// loop goroutine; a nil callback does nothing.
type Protocol struct {
	// Name is the subprotocol name matched against Sec-WebSocket-Protocol.
	Name string

	// Path routes handshakes to the protocol by their request path
	// (libwebsockets' mounts), as patterns of net/http.ServeMux do: "/feed"
	// serves that path only, "/feed/" (ending in a slash) that path and
	// every path below it; empty serves every path. A handshake is bound
	// to the protocols of Config.Protocols whose Path serves its path
	// best: those with the exact path, else those with the longest
	// subtree, else those without a Path. Among these the client's
	// Sec-WebSocket-Protocol list chooses, its first name that one of them
	// has; without a list, the first of them in Config.Protocols. A path
	// no protocol serves is refused with 404, and a list that names none
	// of the protocols bound to the path with 400. The path compared is
	// the request's, percent-decoded, without its query.
	Path string

	// RxBufferSize is the most bytes delivered per OnReceive call; a larger
	// frame arrives in several pieces. Default DefaultRxBufferSize.
	RxBufferSize int

	// Reassemble delivers whole messages: OnReceive is called once per
	// message with all its bytes. MaxMessageSize (or Limits.MaxMessageSize)
	// caps the message; a larger one is closed with 1009.
	Reassemble bool

	// MaxMessageSize overrides Limits.MaxMessageSize for this protocol.
	MaxMessageSize int64

	// Compression turns permessage-deflate (RFC 7692) on for the
	// protocol's connections, with its options; nil leaves it off.
	Compression *Compression

	// PingInterval overrides Limits.PingInterval (the keepalive) for this
	// protocol's connections; negative turns keepalive off for them.
	PingInterval time.Duration

	// OnEstablished runs when the handshake completed
	// (LWS_CALLBACK_ESTABLISHED).
	OnEstablished func(c *Conn)

	// OnReceive gets received data (LWS_CALLBACK_RECEIVE). data is valid only
	// until the callback returns.
	OnReceive func(c *Conn, data []byte)

	// OnWriteable runs once after each Conn.RequestWriteable, when the
	// connection can take more data (LWS_CALLBACK_SERVER_WRITEABLE).
	OnWriteable func(c *Conn)

	// OnTimer runs when the timer set by Conn.SetTimer expires
	// (LWS_CALLBACK_TIMER).
	OnTimer func(c *Conn)

	// OnPong gets the payload of a PONG (valid until return).
	OnPong func(c *Conn, payload []byte)

	// OnClosed runs once when an established connection is gone
	// (LWS_CALLBACK_CLOSED). code and reason say how it ended, which is
	// not always what the peer sent. They are those of the peer's close
	// frame when one came (also when it answered our Conn.Close, so a
	// peer that echoes gives back our code). Or they are those this side
	// failed the connection with, whether a close frame could be sent or
	// not: 1002, 1007 or 1009 for what the peer sent, 1011 after a
	// callback panicked, 1008 or 1011 "send queue full"
	// (Limits.SendQueueOverflow), 1008 "write stalled" when the peer took
	// none of our output for Limits.WriteStallTimeout (no close frame
	// can be sent then). Or CloseAbnormal when no close frame came (the
	// peer vanished, "keepalive timeout", no answer to our close frame
	// within Limits.CloseTimeout). ClientConn's CloseError.Origin tells
	// these apart for Dial's connections.
	OnClosed func(c *Conn, code wsproto.CloseCode, reason string)

	// OnConnectionError runs once when a client connection (Service.Connect)
	// fails before it is established: name resolution, connect, proxy or
	// handshake failure, timeout, or the service closing
	// (LWS_CALLBACK_CLIENT_CONNECTION_ERROR). err says what failed; a
	// refused handshake is a *HandshakeError.
	OnConnectionError func(c *Conn, err error)

	// pacedWrites is set for Dial's connections, whose writes already wait
	// for the output to drain (ClientConn.WriteMessage): the library does
	// not hold their reading for output backpressure, which would only
	// stall both ends when the peer holds its reading too.
	pacedWrites bool

	// failInOrder is set for Dial's connections, whose messages wait in a
	// queue for their reader: a failure for what the peer sent does not
	// close the connection at once. Reading stops at the offending frame
	// and failInOrder gets the code and reason; the ClientConn fails the
	// connection (Conn.fail) when its reader has taken every message
	// received before.
	failInOrder func(c *Conn, code wsproto.CloseCode, reason string)
}

func (p *Protocol) rxBufferSize() int {
	if p.RxBufferSize > 0 {
		return p.RxBufferSize
	}
	return DefaultRxBufferSize
}
