package lws

import (
	"math"
	"net/http"
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
	p, offered, refusal := c.loop.svc.checkUpgrade(req, c, nil)
	if refusal != nil {
		c.logInfo("handshake refused with %d: %s", refusal.status, refusal.why)
		c.respondError(refusal.status, refusal.why, refusal.extra...)
		return
	}
	c.acceptUpgrade(req, p, offered, nil, nil)
}

// upgradeRefusal is why a handshake request is refused, with its HTTP status.
type upgradeRefusal struct {
	status int
	why    string
	extra  []httpd.Field // response header fields (426: Sec-WebSocket-Version)
}

// checkUpgrade validates a handshake request and picks its protocol. It
// is the one validation of both the native server and net/http upgrades
// (Service.Upgrade); c is the connection CheckOrigin is told about (nil
// for net/http); only, when set, is the one protocol the request may be
// bound to (UpgradeOptions.Protocol), whatever its path.
func (s *Service) checkUpgrade(req *httpd.Request, c *Conn, only *Protocol) (p *Protocol, offered bool, refusal *upgradeRefusal) {
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
	p, offered, ok := s.selectProtocol(req.Path, req.Header, only)
	if !ok {
		if offered {
			return refuse(400, "none of the offered subprotocols is served")
		}
		return refuse(404, "no WebSocket protocol is served at "+quoteHeader(req.Path))
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
// connection a WebSocket bound to p. header holds further response header
// lines, validated and each ending in CRLF (net/http upgrades: the fields
// set on the ResponseWriter); netReq is net/http's request, nil for the
// native server. Conn.Request gives the request to OnEstablished.
func (c *Conn) acceptUpgrade(req *httpd.Request, p *Protocol, offered bool, netReq *http.Request, header []byte) {
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
	resp = append(resp, header...)
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
		l := c.loop
		l.establishing = establishing{c: c, req: req, r: netReq}
		c.callEstablished()
		l.establishing = establishing{}
	}
	c.loop.putHTTPState(h) // req is h's: not used past here (http.go)
}

// selectProtocol binds a handshake for path, with the header fields h, to
// a protocol. The candidates are only when it is set, else the protocols
// of Config.Protocols whose Path serves path best (routeRank): the exact
// path, else the longest subtree, else those without a Path. Among them
// the first subprotocol in the client's list (the Sec-WebSocket-Protocol
// fields of h) that names one is chosen; with no list, the first
// candidate. offered reports whether the client sent a list; ok is false
// when nothing serves path (offered is then false too), or the list names
// none of the candidates.
func (s *Service) selectProtocol(path string, h httpd.Header, only *Protocol) (p *Protocol, offered, ok bool) {
	best := 0
	if only == nil {
		best = -1
		for _, proto := range s.cfg.Protocols {
			best = max(best, routeRank(proto.Path, path))
		}
		if best < 0 {
			return nil, false, false // nothing served here: 404 whatever is offered
		}
	}
	candidate := func(proto *Protocol) bool { return routeRank(proto.Path, path) == best }
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
			if only != nil {
				if only.Name == name {
					return only, true, true
				}
				continue
			}
			for _, proto := range s.cfg.Protocols {
				if proto.Name == name && candidate(proto) {
					return proto, true, true
				}
			}
		}
	}
	if offered {
		return nil, true, false
	}
	if only != nil {
		return only, false, true
	}
	for _, proto := range s.cfg.Protocols {
		if candidate(proto) {
			return proto, false, true
		}
	}
	return nil, false, false
}

// routeRank is how well a Protocol.Path route serves a request path: -1
// not at all; 0 for a route without a path, which serves every path; the
// route's length for a subtree ("/feed/" serves "/feed/" and the paths
// below it); above every subtree for the exact path.
func routeRank(route, path string) int {
	switch {
	case route == "":
		return 0
	case route == path:
		return math.MaxInt
	case strings.HasSuffix(route, "/") && strings.HasPrefix(path, route):
		return len(route)
	}
	return -1
}
