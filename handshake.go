package lws

import (
	"strings"

	"github.com/lws-go/lws/httpd"
	"github.com/lws-go/lws/wsproto"
)

// upgrade validates the WebSocket handshake request the connection's
// parser holds (RFC 6455 section 4.2.1), picks the subprotocol and answers
// 101, or refuses with the fitting status.
//
// The request is borrowed (httpd.Parser.BorrowRequest): its strings alias
// the pooled head buffer, so a handshake leaves no copy of the head behind
// as garbage. What the connection keeps is copied (setTarget), and
// Config.CheckOrigin, user code that may keep what it is given, gets the
// request with strings of its own.
func (c *Conn) upgrade() {
	h := c.http
	req := h.parser.BorrowRequest()
	if c.loop.svc.cfg.CheckOrigin != nil {
		req = h.parser.Request()
	}
	p, offered, refusal := c.loop.svc.checkUpgrade(req, c)
	if refusal != nil {
		c.logInfo("handshake refused with %d: %s", refusal.status, refusal.why)
		c.respondError(refusal.status, refusal.why, refusal.extra...)
		return
	}
	c.acceptUpgrade(req, p, offered)
}

// upgradeRefusal is why a handshake request is refused, with its HTTP status.
type upgradeRefusal struct {
	status int
	why    string
	extra  []httpd.Field // response header fields (426: Sec-WebSocket-Version)
}

// checkUpgrade validates a handshake request and picks its subprotocol. It
// is the one validation of both the native server and net/http upgrades
// (Service.Upgrade); c is the connection CheckOrigin is told about (nil
// for net/http).
func (s *Service) checkUpgrade(req *httpd.Request, c *Conn) (p *Protocol, offered bool, refusal *upgradeRefusal) {
	refuse := func(status int, why string, extra ...httpd.Field) (*Protocol, bool, *upgradeRefusal) {
		return nil, false, &upgradeRefusal{status: status, why: why, extra: extra}
	}
	switch {
	case !req.Header.HasToken("upgrade", "websocket"):
		// Only a net/http upgrade gets here: the native server serves such
		// a request as plain HTTP.
		return refuse(426, "this resource is served over WebSocket only", httpd.Field{Name: "Upgrade", Value: "websocket"})
	case req.Method != "GET":
		return refuse(400, "WebSocket handshake must use GET, not "+req.Method)
	case req.Major != 1 || req.Minor < 1:
		return refuse(400, "WebSocket handshake needs HTTP/1.1")
	case !req.Header.HasToken("connection", "upgrade"):
		return refuse(400, "Connection header lacks the upgrade token")
	case req.Header.Get("sec-websocket-version") != "13":
		return refuse(426, "only WebSocket version 13 is supported, not "+quoteHeader(req.Header.Get("sec-websocket-version")),
			httpd.Field{Name: "Sec-WebSocket-Version", Value: "13"})
	case !wsproto.ValidClientKey(req.Header.Get("sec-websocket-key")):
		return refuse(400, "bad Sec-WebSocket-Key")
	}
	if ok, origin := s.originAllowed(req, c); !ok {
		return refuse(403, "origin "+quoteHeader(origin)+" is not allowed for host "+quoteHeader(req.Host))
	}
	p, offered, ok := s.selectProtocol(req.Header)
	if !ok {
		if offered {
			return refuse(400, "none of the offered subprotocols is served")
		}
		return refuse(404, "no WebSocket protocol is served here")
	}
	return p, offered, nil
}

func quoteHeader(v string) string {
	if len(v) > 32 {
		v = v[:32] + "..."
	}
	return `"` + v + `"`
}

// acceptUpgrade answers a validated handshake with 101 and makes the
// connection a WebSocket bound to p.
func (c *Conn) acceptUpgrade(req *httpd.Request, p *Protocol, offered bool) {
	// The response is written straight into the output queue (a pooled
	// buffer): a handshake leaves no response garbage behind.
	c.reserve(256)
	resp := c.out
	resp = append(resp, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	resp = wsproto.AppendAcceptKey(resp, []byte(req.Header.Get("sec-websocket-key")))
	resp = append(resp, "\r\n"...)
	if offered {
		resp = append(resp, "Sec-WebSocket-Protocol: "...)
		resp = append(resp, p.Name...)
		resp = append(resp, "\r\n"...)
	}
	c.proto = p
	resp = append(resp, c.negotiateDeflate(req, p)...) // compress.go
	resp = append(resp, "\r\n"...)
	c.out = resp

	c.clearDeadline()
	h := c.http
	c.http = nil
	c.state = stateWS
	c.proto = p
	c.setTarget(req.Path, req.RawQuery)
	c.established = true
	c.flush()
	if c.state == stateWS {
		c.callEstablished()
	}
	c.loop.putHTTPState(h) // req is h's: not used past here (http.go)
}

// selectProtocol picks the first subprotocol in the client's list (the
// Sec-WebSocket-Protocol fields of h) that the service knows. With no list
// it binds to protocol 0. offered reports whether the client sent a list.
func (s *Service) selectProtocol(h httpd.Header) (p *Protocol, offered, ok bool) {
	for _, f := range h {
		if f.Name != "sec-websocket-protocol" {
			continue
		}
		for rest := f.Value; rest != ""; {
			var name string
			name, rest, _ = strings.Cut(rest, ",")
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			offered = true
			for _, proto := range s.cfg.Protocols {
				if proto.Name == name {
					return proto, true, true
				}
			}
		}
	}
	if offered || len(s.cfg.Protocols) == 0 {
		return nil, offered, false
	}
	return s.cfg.Protocols[0], false, true
}
