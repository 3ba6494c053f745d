package lws

import (
	"runtime/debug"

	"github.com/lws-go/lws/logging"
	"github.com/lws-go/lws/wsproto"
)

// Every user callback runs through one of these: a panic in it is logged
// with its stack at ERR and closes that connection with 1011; the loop and
// every other connection go on.

func (c *Conn) callEstablished() {
	c.loop.stats.opened()
	c.startKeepalive() // server and client connections (keepalive.go)
	defer c.recoverCallback("OnEstablished")
	if c.sq.waiting() { // sent before the handshake completed (post.go)
		c.schedulePump()
	}
	if f := c.proto.OnEstablished; f != nil {
		f(c)
	}
}

func (c *Conn) callReceive(p []byte) {
	defer c.recoverCallback("OnReceive")
	if f := c.proto.OnReceive; f != nil {
		f(c, p)
	}
}

func (c *Conn) callWriteable() {
	defer c.recoverCallback("OnWriteable")
	if f := c.proto.OnWriteable; f != nil {
		f(c)
	}
}

func (c *Conn) callTimer() {
	defer c.recoverCallback("OnTimer")
	c.proto.OnTimer(c)
}

func (c *Conn) callPong(p []byte) {
	defer c.recoverCallback("OnPong")
	c.proto.OnPong(c, p)
}

func (c *Conn) callClosed(code wsproto.CloseCode, reason string) {
	c.loop.stats.closed(code)
	defer c.recoverCallback("OnClosed")
	if f := c.proto.OnClosed; f != nil {
		f(c, code, reason)
	}
}

func (c *Conn) callConnectionError(err error) {
	defer c.recoverCallback("OnConnectionError")
	if f := c.proto.OnConnectionError; f != nil {
		f(c, err)
	}
}

func (c *Conn) callHTTP(r *HTTPRequest) {
	defer c.recoverCallback("HTTP")
	c.loop.svc.cfg.HTTP(r)
}

func (c *Conn) recoverCallback(name string) {
	r := recover()
	if r == nil {
		return
	}
	proto := ""
	if c.proto != nil {
		proto = c.proto.Name
	}
	logging.Errf("panic in %s callback (protocol %q, peer %v): %v\n%s", name, proto, c.remote, r, debug.Stack())
	switch c.state {
	case stateWS:
		c.setClose(wsproto.CloseInternalError, "internal error")
		c.queueClose(wsproto.CloseInternalError, "internal error")
		c.drain()
	case stateHTTP:
		c.respondError(500, "internal error")
	}
}
