package lws

import (
	"slices"
	"strings"
	"testing"

	"github.com/lws-go/lws/httpd"
	"github.com/lws-go/lws/wsproto"
)

// FuzzUpgradeRequest feeds request heads through the HTTP parser and the
// WebSocket handshake validation, Origin check and subprotocol choice
// included (no socket): nothing panics, a refusal carries one of the
// handshake's statuses, and an accepted request really satisfies RFC 6455
// section 4.2.1, the default Origin rule and the subprotocol rule.
func FuzzUpgradeRequest(f *testing.F) {
	const valid = "GET /chat?x=1 HTTP/1.1\r\nHost: example.com:7681\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	for _, extra := range []string{
		"",
		"Origin: http://example.com:7681\r\n",
		"Origin: http://EXAMPLE.com:7681\r\nSec-WebSocket-Protocol: nope, echo\r\n",
		"Origin: https://evil.example\r\n",
		"Origin: null\r\n",
		"Origin: http://[::1]:7681\r\n",
		"Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: echo\r\n",
		"Sec-WebSocket-Protocol: ,, ,\r\n",
		"Sec-WebSocket-Protocol: unknown\r\n",
	} {
		f.Add([]byte(valid + extra + "\r\n"))
	}
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n"))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n"))
	f.Add([]byte("GET / HTTP/1.0\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n"))

	s := &Service{cfg: Config{Protocols: []*Protocol{{Name: "chat"}, {Name: "echo"}}}}
	f.Fuzz(func(t *testing.T, head []byte) {
		var p httpd.Parser
		p.Reset(httpd.Limits{MaxHeaderBytes: 8192})
		_, done, err := p.Feed(head)
		if err != nil || !done {
			return
		}
		req := p.Request()
		proto, offered, refusal := s.checkUpgrade(req, nil, nil)
		if refusal != nil {
			switch refusal.status {
			case 400, 403, 404, 426:
			default:
				t.Fatalf("refused with status %d (%s)", refusal.status, refusal.why)
			}
			if refusal.why == "" {
				t.Fatalf("refusal %d without a reason", refusal.status)
			}
			return
		}
		if req.Method != "GET" || req.Major != 1 || req.Minor < 1 ||
			!req.Header.HasToken("connection", "upgrade") || !req.Header.HasToken("upgrade", "websocket") ||
			req.Header.Get("sec-websocket-version") != "13" || !wsproto.ValidClientKey(req.Header.Get("sec-websocket-key")) {
			t.Fatalf("accepted an invalid handshake:\n%q", head)
		}
		if origin := req.Header.Get("origin"); origin != "" && !sameOrigin(origin, req.Host) {
			t.Fatalf("accepted Origin %q for Host %q", origin, req.Host)
		}
		var names []string
		for _, v := range req.Header.Values("sec-websocket-protocol") {
			for _, n := range strings.Split(v, ",") {
				if n = strings.TrimSpace(n); n != "" {
					names = append(names, n)
				}
			}
		}
		switch {
		case offered != (len(names) > 0):
			t.Fatalf("offered %v, but the request names %q", offered, names)
		case !offered && proto != s.cfg.Protocols[0]:
			t.Fatalf("no subprotocol offered, bound to %q instead of protocol 0", proto.Name)
		case offered && !slices.Contains(names, proto.Name):
			t.Fatalf("chose %q, which the request %q did not offer", proto.Name, names)
		}
	})
}
