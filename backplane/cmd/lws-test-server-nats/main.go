// Command lws-test-server-nats is lws-test-server (same flags) whose
// lws-mirror-protocol spans every server joined to the same NATS: a
// stroke drawn on a page served by one instance appears on the pages of
// all. dumb-increment-protocol stays per connection.
//
//	lws-test-server-nats -p 7681 --nats nats://127.0.0.1:4222
//	lws-test-server-nats -p 7682 --nats nats://127.0.0.1:4222
//
// Without --nats it is the plain lws-test-server.
package main

import (
	"flag"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/backplane"
	"github.com/lws-go/lws/backplane/internal/spanmirror"
	"github.com/lws-go/lws/internal/testapp"
)

func main() {
	var url, subject string
	var bp *backplane.Backplane
	testapp.RunTestServer("lws-test-server-nats", &testapp.TestServerOptions{
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&url, "nats", "", "span the mirror over the NATS server(s) at `url` (comma-separated)")
			fs.StringVar(&subject, "nats-prefix", "lws", "subject `prefix` of the group")
		},
		Synopsis: " [--nats url [--nats-prefix prefix]]",
		Mirror: func() (*lws.Protocol, func(*lws.Service) error, error) {
			if url == "" {
				return testapp.Mirror(), func(*lws.Service) error { return nil }, nil
			}
			var err error
			if bp, err = backplane.Connect(url, &backplane.Options{Prefix: subject}); err != nil {
				return nil, nil, err
			}
			p, start := spanmirror.New(bp)
			return p, start, nil
		},
	})
	if bp != nil {
		bp.Close() // after shutdown: send what NATS has not got yet
	}
}
