package lws

import (
	"net/netip"
	"strings"

	"github.com/lws-go/lws/httpd"
)

// The Origin check of WebSocket handshakes (RFC 6455 section 10.2, RFC 6454).
//
// A browser sends Origin with every WebSocket handshake, and the cookies and
// HTTP credentials of the target site go along whatever page opened the
// socket. Without a check, any web page a user visits can open an
// authenticated WebSocket to our server in their name (cross-site WebSocket
// hijacking). The default therefore follows what browsers enforce for
// same-origin requests, while leaving non-browser clients alone:
//
//   - no Origin header: allowed (Python websockets, Node ws, curl and most
//     native clients send none);
//   - Origin whose host and port are those of the request's Host header:
//     allowed (a page served by this server, such as the test page; also
//     libwebsockets' C client, which sends "Origin: http://<address>" with
//     "Host: <address>");
//   - Origin equal to an entry of Config.AllowedOrigins, or any Origin when
//     the list holds "*": allowed;
//   - anything else, "null" (file: pages, sandboxed frames) included:
//     refused with 403.
//
// Config.CheckOrigin, when set, replaces all of this.

// originAllowed decides the Origin check for a handshake request arriving
// on c (nil for net/http). For CheckOrigin, req must have strings of its
// own (httpd.Parser.Request).
func (s *Service) originAllowed(req *httpd.Request, c *Conn) (ok bool, origin string) {
	origin = req.Header.Get("origin")
	if s.cfg.CheckOrigin != nil {
		return s.cfg.CheckOrigin(origin, &HTTPRequest{Request: req, conn: c}), origin
	}
	if origin == "" {
		return true, origin
	}
	for _, o := range s.cfg.AllowedOrigins {
		if o == "*" || strings.EqualFold(o, origin) {
			return true, origin
		}
	}
	return sameOrigin(origin, req.Host), origin
}

// sameOrigin reports whether origin, a serialized origin as browsers send
// it ("scheme://host[:port]", RFC 6454 section 6.2; a trailing "/" is
// tolerated), names the host and port of host, the request's Host header.
// Host names compare without regard to case; a missing port is the
// scheme's default (80 for http and ws, 443 for https and wss), and a Host
// without a port matches the origin's default port. Anything else does not
// match: another scheme, userinfo, a path, query or fragment, a
// percent-escape. It parses by hand, allocating nothing, as a browser
// sends Origin with every handshake.
func sameOrigin(origin, host string) bool {
	scheme, rest, ok := strings.Cut(origin, "://")
	if !ok {
		return false
	}
	var defPort string
	switch {
	case strings.EqualFold(scheme, "http"), strings.EqualFold(scheme, "ws"):
		defPort = "80"
	case strings.EqualFold(scheme, "https"), strings.EqualFold(scheme, "wss"):
		defPort = "443"
	default:
		return false
	}
	oHost, oPort, ok := splitAuthority(strings.TrimSuffix(rest, "/"))
	if !ok {
		return false
	}
	hHost, hPort, ok := splitAuthority(host)
	if !ok {
		return false
	}
	if oPort == "" {
		oPort = defPort
	}
	if hPort == "" {
		hPort = defPort
	}
	return strings.EqualFold(oHost, hHost) && oPort == hPort
}

// splitAuthority splits "host[:port]" into its host, without the brackets
// of an IP literal, and its port, digits or empty. ok is false unless the
// host is a non-empty name of letters, digits and "-._~", or an IPv6
// address without zone in brackets.
func splitAuthority(a string) (host, port string, ok bool) {
	if strings.HasPrefix(a, "[") {
		end := strings.IndexByte(a, ']')
		if end < 0 {
			return "", "", false
		}
		host, a = a[1:end], a[end+1:]
		if ip, err := netip.ParseAddr(host); err != nil || !ip.Is6() || ip.Zone() != "" {
			return "", "", false
		}
	} else {
		if i := strings.IndexByte(a, ':'); i >= 0 {
			host, a = a[:i], a[i:]
		} else {
			host, a = a, ""
		}
		if host == "" {
			return "", "", false
		}
		for i := 0; i < len(host); i++ {
			switch c := host[i]; {
			case '0' <= c && c <= '9', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z',
				c == '-', c == '.', c == '_', c == '~':
			default:
				return "", "", false
			}
		}
	}
	if a != "" {
		if a[0] != ':' {
			return "", "", false
		}
		port = a[1:]
		for i := 0; i < len(port); i++ {
			if port[i] < '0' || port[i] > '9' {
				return "", "", false
			}
		}
	}
	return host, port, true
}
