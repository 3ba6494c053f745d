// Command lws-test-server-nats is lws-test-server (same flags) whose
// lws-mirror-protocol spans every server joined to the same NATS: a
// stroke drawn on a page served by one instance appears on the pages of
// all. dumb-increment-protocol stays per connection.
//
//	lws-test-server-nats -p 7681 --nats nats://127.0.0.1:4222
//	lws-test-server-nats -p 7682 --nats nats://127.0.0.1:4222
//
// With --nats-durable the mirror is kept in a JetStream stream (NATS must
// run with JetStream, nats-server -js): nothing is lost while NATS or a
// server restarts, and a page that loses its connection redraws, when it
// reconnects to any of the servers, the strokes it missed. Give each
// server a stable --nats-instance so a restarted one resumes where it
// stopped.
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
	var url, subject, instance string
	var durable bool
	var bp *backplane.Backplane
	testapp.RunTestServer("lws-test-server-nats", &testapp.TestServerOptions{
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&url, "nats", "", "span the mirror over the NATS server(s) at `url` (comma-separated)")
			fs.StringVar(&subject, "nats-prefix", "lws", "subject `prefix` of the group")
			fs.BoolVar(&durable, "nats-durable", false, "keep the mirror in a JetStream stream: nothing lost across restarts, clients recover what they missed")
			fs.StringVar(&instance, "nats-instance", "", "this server's `name` in the group (default: random)")
		},
		Synopsis: " [--nats url [--nats-prefix prefix] [--nats-durable] [--nats-instance name]]",
		Mirror: func() (*lws.Protocol, func(*lws.Service) error, error) {
			if url == "" {
				return testapp.Mirror(), func(*lws.Service) error { return nil }, nil
			}
			var err error
			if bp, err = backplane.Connect(url, &backplane.Options{Prefix: subject, Instance: instance}); err != nil {
				return nil, nil, err
			}
			if durable {
				st, err := bp.Stream("lws-mirror-protocol", nil)
				if err != nil {
					return nil, nil, err
				}
				return spanmirror.NewDurable(st), func(*lws.Service) error { return nil }, nil
			}
			p, start := spanmirror.New(bp)
			return p, start, nil
		},
	})
	if bp != nil {
		bp.Close() // after shutdown: send what NATS has not got yet
	}
}
