package lws_test

import (
	"errors"
	"testing"

	"github.com/lws-go/lws"
)

// TestConnCloseResult: Conn.Close reports whether it started the closing
// handshake: nil the first time, ErrClosed once the connection is closing.
func TestConnCloseResult(t *testing.T) {
	results := make(chan [2]error, 1)
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{{
		Name: "closer",
		OnEstablished: func(c *lws.Conn) {
			first := c.Close(lws.CloseNormal, "bye")
			results <- [2]error{first, c.Close(lws.CloseGoingAway, "again")}
		},
	}}})
	cc := mustDial(t, wsURL(svc, "/"), &lws.DialOptions{Protocols: []string{"closer"}})
	got := <-results
	if got[0] != nil || !errors.Is(got[1], lws.ErrClosed) {
		t.Errorf("Close, Close: %v, %v; want nil, ErrClosed", got[0], got[1])
	}
	var ce *lws.CloseError
	if _, _, err := cc.ReadMessage(testCtx(t)); !errors.As(err, &ce) || ce.Code != lws.CloseNormal || ce.Reason != "bye" {
		t.Errorf("client saw %v, want the first close (1000 \"bye\")", err)
	}
}
