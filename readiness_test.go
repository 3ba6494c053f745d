package lws_test

import (
	"testing"
	"time"

	"github.com/lws-go/lws"
)

// An OnWriteable callback that writes nothing and asks again, at once or
// later, is called again: the socket is still writable, which a
// level-triggered poller reports whenever the connection watches for it,
// and so must the portable backend.
func TestOnWriteableAgainWithoutWriting(t *testing.T) {
	for _, backend := range []lws.Backend{lws.BackendDefault, lws.BackendPortable} {
		for _, later := range []bool{false, true} {
			name := backend.String() + "/at once"
			if later {
				name = backend.String() + "/later"
			}
			t.Run(name, func(t *testing.T) {
				const want = 5
				calls := make(chan *lws.Conn, want)
				n := 0
				p := &lws.Protocol{
					Name:          "p",
					OnEstablished: func(c *lws.Conn) { c.RequestWriteable() },
					OnWriteable: func(c *lws.Conn) {
						n++
						calls <- c
						if n < want && !later {
							c.RequestWriteable()
						}
					},
				}
				svc := startService(t, lws.Config{Protocols: []*lws.Protocol{p}, Backend: backend})
				rc := dialWS(t, svc, "p")
				defer rc.Close()
				for i := 1; i <= want; i++ {
					select {
					case c := <-calls:
						if later && i < want {
							c.Post(c.RequestWriteable)
						}
					case <-time.After(10 * time.Second):
						t.Fatalf("OnWriteable called %d times, want %d", i-1, want)
					}
				}
			})
		}
	}
}
