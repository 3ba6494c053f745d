// Package spanmirror makes the test server's lws-mirror-protocol span the
// servers of a backplane group: New is the core module's
// testapp.SpanningMirror with a backplane Topic as its fan-out (at most
// once); NewDurable serves it from a backplane Stream (exactly once, with
// client recovery).
package spanmirror

import (
	"net/url"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/backplane"
	"github.com/lws-go/lws/internal/testapp"
	"github.com/lws-go/lws/wsproto"
)

// New returns the spanning mirror protocol and the function to call with
// its service before it runs: that starts delivering the other servers'
// messages, each through the service's loop.
func New(b *backplane.Backplane) (*lws.Protocol, func(*lws.Service) error) {
	topic := b.Topic("lws-mirror-protocol")
	p, deliver := testapp.SpanningMirror(topic)
	start := func(svc *lws.Service) error {
		return topic.Subscribe(func(instance string, msg []byte) {
			_ = svc.Post(func() { deliver(instance, msg) }) // fails only once the service closed
		})
	}
	return p, start
}

// NewDurable returns lws-mirror-protocol served from st, a durable
// stream of the group: every message a client sends is published on st
// under its mirror instance ("?mirror=<name>", Stream.PublishFrom) and
// every client of the instance on every server gets it from st, exactly
// once and in the stream's order. A client that presents a position ("since") gets
// positions with its messages and recovers what it missed when it
// reconnects, to any server of the group. Unlike the plain mirror, senders
// are not paused for slow readers: a reader whose send queue fills is
// closed with 1013 and recovers when it reconnects. A sender whose
// message the stream's buffer refuses (NATS unreachable for long) is
// closed with 1013 "server buffer full": that message is lost.
func NewDurable(st *backplane.Stream) *lws.Protocol {
	return &lws.Protocol{
		Name:           "lws-mirror-protocol",
		Reassemble:     true,
		MaxMessageSize: 64 << 10,
		OnEstablished: func(c *lws.Conn) {
			q, _ := url.ParseQuery(c.RequestQuery())
			st.Serve(c, q.Get("mirror"))
		},
		OnReceive: func(c *lws.Conn, data []byte) {
			if err := st.PublishFrom(c, data); err != nil {
				// The buffer is full (NATS unreachable for long): the
				// message is lost, and the sender told so.
				c.Close(wsproto.CloseTryAgainLater, "server buffer full")
			}
		},
		OnClosed: func(c *lws.Conn, _ wsproto.CloseCode, _ string) {
			st.Leave(c)
		},
	}
}
