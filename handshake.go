package lws

import (
	"strings"

	"github.com/lws-go/lws/httpd"
	"github.com/lws-go/lws/wsproto"
)

// upgrade validates a WebSocket handshake request (RFC 6455 section 4.2.1),
// picks the subprotocol and answers 101, or refuses with the fitting
// status.
func (c *Conn) upgrade(req *httpd.Request) {
	svc := c.loop.svc
	switch {
	case req.Method != "GET":
		c.refuseUpgrade(400, "WebSocket handshake must use GET, not "+req.Method)
		return
	case req.Major != 1 || req.Minor < 1:
		c.refuseUpgrade(400, "WebSocket handshake needs HTTP/1.1")
		return
	case !req.Header.HasToken("connection", "upgrade"):
		c.refuseUpgrade(400, "Connection header lacks the upgrade token")
		return
	case req.Header.Get("sec-websocket-version") != "13":
		c.logInfo("handshake: unsupported Sec-WebSocket-Version %q", req.Header.Get("sec-websocket-version"))
		c.respondError(426, "only WebSocket version 13 is supported", httpd.Field{Name: "Sec-WebSocket-Version", Value: "13"})
		return
	}
	key := req.Header.Get("sec-websocket-key")
	if !wsproto.ValidClientKey(key) {
		c.refuseUpgrade(400, "bad Sec-WebSocket-Key")
		return
	}
	if svc.cfg.CheckOrigin != nil {
		r := &HTTPRequest{Request: req, conn: c}
		if !svc.cfg.CheckOrigin(req.Header.Get("origin"), r) {
			c.refuseUpgrade(403, "origin not allowed")
			return
		}
	}
	p, offered, ok := svc.selectProtocol(req.Header.Values("sec-websocket-protocol"))
	if !ok {
		if offered {
			c.refuseUpgrade(400, "none of the offered subprotocols is served")
		} else {
			c.refuseUpgrade(404, "no WebSocket protocol is served here")
		}
		return
	}

	resp := make([]byte, 0, 160)
	resp = append(resp, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	resp = wsproto.AppendAcceptKey(resp, []byte(key))
	resp = append(resp, "\r\n"...)
	if offered {
		resp = append(resp, "Sec-WebSocket-Protocol: "...)
		resp = append(resp, p.Name...)
		resp = append(resp, "\r\n"...)
	}
	resp = append(resp, "\r\n"...)
	c.queueRaw(resp)

	c.clearDeadline()
	c.http = nil
	c.state = stateWS
	c.proto = p
	c.path, c.query = req.Path, req.RawQuery
	c.established = true
	maxMsg := p.MaxMessageSize
	if maxMsg <= 0 {
		maxMsg = svc.limits.MaxMessageSize
	}
	c.parser.Init(wsproto.ParserConfig{Role: wsproto.RoleServer, MaxMessageSize: maxMsg, MaxFragments: svc.limits.MaxFragments})
	c.flush()
	if c.state == stateWS {
		c.callEstablished()
	}
}

func (c *Conn) refuseUpgrade(status int, why string) {
	c.logInfo("handshake refused with %d: %s", status, why)
	c.respondError(status, why)
}

// selectProtocol picks the first subprotocol in the client's list that the
// service knows. With no list it binds to protocol 0. offered reports
// whether the client sent a list.
func (s *Service) selectProtocol(headers []string) (p *Protocol, offered, ok bool) {
	for _, h := range headers {
		for _, name := range strings.Split(h, ",") {
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
