package lws

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// UpgradeOptions are what a net/http handler decides for one connection it
// upgrades with Service.UpgradeWith.
//
// Response header fields for the 101 response, a Set-Cookie for instance,
// are not an option: set them on the ResponseWriter's Header before the
// call, as for any response (Service.Upgrade sends them too).
type UpgradeOptions struct {
	// Protocol binds the connection to this protocol: the handler's route
	// has chosen it, so Config.Protocols and their Path are not looked at
	// (it need not be one of them). The subprotocol rule still holds: a
	// client that sends a Sec-WebSocket-Protocol list must name the
	// protocol's Name in it, else the request gets 400. Nil chooses from
	// Config.Protocols as the native server does.
	Protocol *Protocol

	// User is the connection's user value (Conn.User, UserOf) from the
	// start: OnEstablished already finds it there. A middleware that
	// authenticated the request passes who it is for this way.
	User any
}

// hopByHopFields are the response header fields Service.Upgrade does not
// copy from the ResponseWriter into the 101 response: those the handshake
// writes itself and those that describe one hop or a message body, which
// a 101 response does not have (RFC 9110 sections 7.6.1 and 8.6).
var hopByHopFields = []string{
	"Connection", "Upgrade", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Te", "Trailer",
	"Content-Length", "Sec-Websocket-Accept", "Sec-Websocket-Protocol", "Sec-Websocket-Extensions",
	"Sec-Websocket-Version", "Sec-Websocket-Key",
}

// responseHeaderLines renders the fields of h the 101 response takes, in
// the order of their names, as "Name: value\r\n" lines: nil when there
// are none. A field name that is not a token, or a value with a control
// character (CR and LF above all: header injection), is an error, and
// that field is deleted from h, so the error response does not carry it.
func responseHeaderLines(h http.Header) ([]byte, error) {
	var b []byte
	for _, name := range slices.Sorted(maps.Keys(h)) {
		if slices.ContainsFunc(hopByHopFields, func(f string) bool { return strings.EqualFold(f, name) }) {
			continue
		}
		if !isToken(name) {
			delete(h, name)
			return nil, fmt.Errorf("lws: response header field name %q is not a token", name)
		}
		for _, v := range h[name] {
			if !validFieldValue(v) {
				delete(h, name)
				return nil, fmt.Errorf("lws: response header %s: value %q holds a control character", name, v)
			}
			b = append(b, name...)
			b = append(b, ": "...)
			b = append(b, v...)
			b = append(b, "\r\n"...)
		}
	}
	return b, nil
}
