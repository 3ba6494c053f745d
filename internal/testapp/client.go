package testapp

import (
	"flag"
	"fmt"
	"net/url"
	"os"

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

// Start begins a test app once parseFlags has run: when the command line
// did not parse (err) it exits, with status 0 after -h/--help (the usage
// is already printed) or else 2 after printing "name: err"; otherwise it
// applies the -d log mask.
func Start(name string, logMask uint, err error) {
	if err != nil {
		if err == flag.ErrHelp {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(2)
	}
	ApplyLogMask(logMask)
}
