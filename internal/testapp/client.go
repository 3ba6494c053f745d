package testapp

import (
	"flag"
	"net/url"

	"github.com/lws-go/lws"
)

// ParseInterspersed parses args with fs, allowing flags after positional
// arguments as the C test apps do ("lws-test-client host --port 7681"),
// and returns the positional arguments in order.
func ParseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// ClientTarget is where a client test app connects: address is a host
// name or IP address, used with port and ssl, or a ws:// / wss:// URL,
// which gives all of them itself.
func ClientTarget(address string, port int, ssl bool) lws.ClientInfo {
	if u, err := url.Parse(address); err == nil && (u.Scheme == "ws" || u.Scheme == "wss") {
		return lws.ClientInfo{URL: address}
	}
	return lws.ClientInfo{Address: address, Port: port, Secure: ssl}
}
