// Package spanmirror makes the test server's lws-mirror-protocol span the
// servers of a backplane group: the core module's testapp.SpanningMirror
// with a backplane Topic as its fan-out.
package spanmirror

import (
	"github.com/lws-go/lws"
	"github.com/lws-go/lws/backplane"
	"github.com/lws-go/lws/internal/testapp"
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
