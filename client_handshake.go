package lws

// The client's opening handshake (RFC 6455 section 4.1): the request, and
// the checks the client must make of the server's response before the
// connection is a WebSocket. A failed check fails the connection (the TCP
// connection is closed, no close frame: there is no WebSocket yet) and
// OnConnectionError gets a *HandshakeError saying which rule was broken.

import (
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"

	"github.com/lws-go/lws/httpd"
	"github.com/lws-go/lws/wsproto"
)

// sendClientRequest queues the handshake request and starts the
// handshake timeout.
func (c *Conn) sendClientRequest() {
	cs := c.cl
	if cs.secure && c.tls == nil {
		c.startClientTLS() // tls.go: the request follows the TLS handshake
		return
	}
	cs.phase = phaseHandshake
	cs.extOffer = deflateOffer(c.proto)
	c.queueRaw(cs.appendRequest(make([]byte, 0, 256)))
	c.setDeadline(cs.handshakeTimeout)
}

// appendRequest appends the handshake request head.
func (cs *clientState) appendRequest(b []byte) []byte {
	b = append(b, "GET "...)
	b = append(b, cs.target...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, cs.hostHeader...)
	b = append(b, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "...)
	b = append(b, cs.key...)
	b = append(b, "\r\nSec-WebSocket-Version: 13\r\n"...)
	if cs.origin != "" {
		b = append(b, "Origin: "...)
		b = append(b, cs.origin...)
		b = append(b, "\r\n"...)
	}
	if len(cs.protocols) > 0 {
		b = append(b, "Sec-WebSocket-Protocol: "...)
		b = append(b, strings.Join(cs.protocols, ", ")...)
		b = append(b, "\r\n"...)
	}
	if cs.extOffer != "" {
		b = append(b, "Sec-WebSocket-Extensions: "...)
		b = append(b, cs.extOffer...)
		b = append(b, "\r\n"...)
	}
	names := make([]string, 0, len(cs.header))
	for name := range cs.header {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, v := range cs.header[name] {
			b = append(b, name...)
			b = append(b, ": "...)
			b = append(b, v...)
			b = append(b, "\r\n"...)
		}
	}
	return append(b, "\r\n"...)
}

// consumeClientHandshake feeds the proxy's or the server's response head
// to the parser and acts on it once complete. Bytes after a 101 are the
// server's first frames and are left to the caller's loop.
func (c *Conn) consumeClientHandshake(b []byte) int {
	cs := c.cl
	if cs.phase == phaseRefusal {
		c.consumeRefusalBody(b)
		return len(b)
	}
	n, done, err := cs.resp.Feed(b)
	if err != nil {
		c.failClient(&HandshakeError{Msg: fmt.Sprintf("bad response from the %s: %v", cs.peerName(), err), Err: err})
		return len(b)
	}
	if !done {
		return len(b)
	}
	resp := cs.resp.Response()
	if cs.phase == phaseProxy {
		if resp.Status/100 != 2 {
			c.failClient(fmt.Errorf("lws: proxy %s refused CONNECT to %s: %d %s",
				cs.proxy.Host, hostPort(cs.host, cs.port, false), resp.Status, resp.Reason))
			return len(b)
		}
		if n < len(b) {
			c.failClient(errors.New("lws: proxy sent data after its CONNECT answer, before our request"))
			return len(b)
		}
		cs.resp.Reset(httpd.Limits{MaxHeaderBytes: c.loop.svc.limits.MaxHeaderBytes})
		c.sendClientRequest()
		c.flushUnlessReading()
		return n
	}
	sub, herr := cs.checkResponse(resp)
	if herr == nil && cs.extOffer != "" {
		if err := c.acceptDeflate(resp.Header.Values("sec-websocket-extensions")); err != nil {
			herr = &HandshakeError{Status: resp.Status, Msg: err.Error(), Err: err}
		}
	}
	if herr != nil {
		herr.Header = httpHeader(resp.Header)
		if resp.Status != 101 {
			c.readRefusal(herr, resp, b[n:])
		} else {
			c.failClient(herr)
		}
		return len(b)
	}
	cs.response = &http.Response{
		Status:     "101 " + resp.Reason,
		StatusCode: resp.Status,
		Proto:      "HTTP/1." + strconv.Itoa(resp.Minor),
		ProtoMajor: 1,
		ProtoMinor: resp.Minor,
		Header:     httpHeader(resp.Header),
		Body:       http.NoBody,
	}
	c.establishClient(sub)
	return n
}

// httpHeader converts a parsed head's fields to an http.Header with
// canonical names.
func httpHeader(fields httpd.Header) http.Header {
	h := make(http.Header, len(fields))
	for _, f := range fields {
		name := textproto.CanonicalMIMEHeaderKey(f.Name)
		h[name] = append(h[name], f.Value)
	}
	return h
}

func (cs *clientState) peerName() string {
	if cs.phase == phaseProxy {
		return "proxy"
	}
	return "server"
}

// checkResponse makes the checks of RFC 6455 section 4.1 (the numbered
// list after "the client MUST validate the server's response") and returns
// the selected subprotocol.
func (cs *clientState) checkResponse(r *httpd.Response) (string, *HandshakeError) {
	fail := func(format string, args ...any) (string, *HandshakeError) {
		return "", &HandshakeError{Status: r.Status, Msg: fmt.Sprintf(format, args...)}
	}
	h := r.Header
	switch {
	case r.Status != 101:
		return fail("server answered %d %s, not 101 Switching Protocols", r.Status, r.Reason)
	case r.Minor < 1:
		return fail("server answered with HTTP/1.%d, not HTTP/1.1", r.Minor)
	case !h.HasToken("upgrade", "websocket"):
		return fail("Upgrade header is %q, not websocket", h.Get("upgrade"))
	case !h.HasToken("connection", "upgrade"):
		return fail("Connection header %q lacks the upgrade token", h.Get("connection"))
	}
	want := wsproto.AcceptKey(cs.key)
	switch accepts := h.Values("sec-websocket-accept"); {
	case len(accepts) == 0:
		return fail("no Sec-WebSocket-Accept header")
	case len(accepts) > 1 || accepts[0] != want:
		return fail("Sec-WebSocket-Accept %q does not match our key (want %q)", strings.Join(accepts, ", "), want)
	}
	for _, v := range h.Values("sec-websocket-extensions") {
		if cs.extOffer != "" {
			break // checked against the offer by acceptDeflate (compress.go)
		}
		for _, ext := range strings.Split(v, ",") {
			name, _, _ := strings.Cut(ext, ";")
			if name = strings.TrimSpace(name); name != "" {
				// No extension was offered, so any is one we did not
				// offer.
				return fail("server accepted extension %q, which we did not offer", name)
			}
		}
	}
	var sub string
	for _, v := range h.Values("sec-websocket-protocol") {
		for _, p := range strings.Split(v, ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			if sub != "" {
				return fail("server selected more than one subprotocol (%q)", strings.Join(h.Values("sec-websocket-protocol"), ", "))
			}
			if !slices.Contains(cs.protocols, p) {
				if len(cs.protocols) == 0 {
					return fail("server selected subprotocol %q, but we offered none", p)
				}
				return fail("server selected subprotocol %q, which we did not offer (offered %s)", p, strconv.Quote(strings.Join(cs.protocols, ", ")))
			}
			sub = p
		}
	}
	return sub, nil
}

// establishClient makes the connection a WebSocket after a valid 101.
func (c *Conn) establishClient(sub string) {
	cs := c.cl
	cs.resp = nil
	cs.header = nil
	cs.subprotocol = sub
	c.clearDeadline()
	c.state = stateWS
	c.established = true
	c.logInfo("client connection established (subprotocol %q)", sub)
	c.callEstablished()
}
