package backplane_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/backplane"
	"github.com/nats-io/nats.go"
)

// TestBroadcastReconnectBuffer: while NATS is down, Broadcast still
// reaches every local client; publishes fill the reconnect buffer and,
// once it is full, fail with nats.ErrReconnectBufExceeded (counted as
// PublishErrors) without touching local delivery.
func TestBroadcastReconnectBuffer(t *testing.T) {
	ns := startNATS(t, 0)
	const bufSize = 4096
	bp, err := backplane.Connect(ns.ClientURL(), &backplane.Options{Prefix: t.Name(), ReconnectBuffer: bufSize})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bp.Close() })
	p := &lws.Protocol{Name: "news"}
	svc, err := lws.New(lws.Config{Addr: "127.0.0.1:0", Protocols: []*lws.Protocol{p}})
	if err != nil {
		t.Fatal(err)
	}
	bc, err := bp.Broadcaster(svc, p)
	if err != nil {
		t.Fatal(err)
	}
	startService(t, svc)
	cc := dial(t, fmt.Sprintf("ws://127.0.0.1:%d/", svc.Port()), "news")
	if !waitFor(10*time.Second, func() bool { return svc.Connections() > 0 }) {
		t.Fatal("client not connected")
	}

	ns.Shutdown()
	ns.WaitForShutdown()
	if !waitFor(10*time.Second, func() bool { return !bp.Conn().IsConnected() }) {
		t.Fatal("still connected")
	}
	const n, size = 100, 100
	msg := make([]byte, size)
	refused := 0
	for i := 0; i < n; i++ {
		msg[0] = byte(i)
		err := bc.Broadcast(msg, lws.WriteBinary)
		switch {
		case errors.Is(err, nats.ErrReconnectBufExceeded):
			refused++
		case err != nil:
			t.Fatalf("Broadcast %d: %v", i, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := 0; i < n; i++ {
		_, got, err := cc.ReadMessage(ctx)
		if err != nil || len(got) != size || got[0] != byte(i) {
			t.Fatalf("local message %d: %d bytes, %v", i, len(got), err)
		}
	}
	st := bp.Stats()
	t.Logf("NATS down: %d local deliveries of %d; %d messages kept in the %d-byte reconnect buffer, %d refused; stats %+v",
		n, n, n-refused, bufSize, refused, st)
	if refused == 0 || refused == n || st.PublishErrors != uint64(refused) {
		t.Fatalf("%d of %d publishes refused (PublishErrors %d): want the buffer to take some and refuse the rest", refused, n, st.PublishErrors)
	}
}
