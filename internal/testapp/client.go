package testapp

import (
	"net/url"

	"github.com/lws-go/lws"
)

// ClientTarget is where a client test app connects: address is a host
// name or IP address, used with port and ssl, or a ws:// / wss:// URL,
// which gives all of them itself.
func ClientTarget(address string, port int, ssl bool) lws.ClientInfo {
	if u, err := url.Parse(address); err == nil && (u.Scheme == "ws" || u.Scheme == "wss") {
		return lws.ClientInfo{URL: address}
	}
	return lws.ClientInfo{Address: address, Port: port, Secure: ssl}
}
