package lws

import (
	"net"
	"net/url"
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

// originAllowed decides the Origin check for a handshake request.
func (s *Service) originAllowed(req *httpd.Request, r *HTTPRequest) (ok bool, origin string) {
	origin = req.Header.Get("origin")
	if s.cfg.CheckOrigin != nil {
		return s.cfg.CheckOrigin(origin, r), origin
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

// sameOrigin reports whether origin (a serialized origin,
// "scheme://host[:port]") names the host and port of host, the request's
// Host header. Host names compare without regard to case; a missing port
// is the scheme's default (80 for http and ws, 443 for https and wss), and
// a Host without a port matches the origin's default port.
func sameOrigin(origin, host string) bool {
	if host == "" {
		return false
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return false
	}
	defPort := ""
	switch strings.ToLower(u.Scheme) {
	case "http", "ws":
		defPort = "80"
	case "https", "wss":
		defPort = "443"
	default:
		return false
	}
	oHost, oPort := u.Hostname(), u.Port()
	if oPort == "" {
		oPort = defPort
	}
	hHost, hPort := host, ""
	if h, p, err := net.SplitHostPort(host); err == nil {
		hHost, hPort = h, p
	} else {
		hHost = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	}
	if hPort == "" {
		hPort = defPort
	}
	return oHost != "" && strings.EqualFold(oHost, hHost) && oPort == hPort
}
