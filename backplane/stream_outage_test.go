package backplane_test

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestStreamSyncEndsWithNATS: after a reconnect the publisher asks the
// stream for its last stored message before it sends more; when NATS is
// lost while it asks, the question ends at once (its answer is lost with
// the connection) rather than at its 5s timeout, so a server whose NATS
// flapped publishes again as soon as NATS is back. Here NATS's answers
// are dropped while the question is asked, then the connection is reset.
func TestStreamSyncEndsWithNATS(t *testing.T) {
	js := startJetStream(t)
	srv := startDurableServer(t, js.url(), "sync", "s0", nil)
	srv.ready(t)

	srv.nats.freeze()
	asked := make(chan error, 1)
	go func() {
		_, err := srv.st.LastStored()
		asked <- err
	}()
	// The question is on its way (its answer will be dropped) when the
	// connection is reset.
	if !waitFor(10*time.Second, func() bool { return srv.nats.sentFrozen.Load() > 0 }) {
		t.Fatal("the question was never sent")
	}
	srv.nats.resetConns()
	if err := <-asked; !errors.Is(err, context.Canceled) {
		t.Fatalf("the question asked as NATS was lost ended with %v, want it canceled with the connection", err)
	}

	// Back on NATS, the server publishes at once.
	if !waitFor(10*time.Second, func() bool { return srv.bp.Conn().IsConnected() }) {
		t.Fatal("no reconnect")
	}
	if err := srv.st.Publish("k", []byte("after")); err != nil {
		t.Fatal(err)
	}
	if !waitFor(20*time.Second, func() bool { return srv.st.Stats().Buffered == 0 }) {
		t.Fatalf("not stored after the reconnect: %+v", srv.st.Stats())
	}
}
