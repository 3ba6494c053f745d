package backplane_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/backplane"
	"github.com/lws-go/lws/wsproto"
)

// startDurableGroup is startGroup on durable servers: three of them,
// two plain mirror clients each.
func startDurableGroup(t *testing.T, js *jsServer) (*group, []*durableServer) {
	var srv []*durableServer
	for i := 0; i < 3; i++ {
		srv = append(srv, startDurableServer(t, js.url(), t.Name(), fmt.Sprintf("s%d", i), nil))
		srv[i].ready(t)
	}
	g := &group{}
	for i := 0; i < 6; i++ {
		g.clients = append(g.clients, dial(t, srv[i/2].url("span"), mirrorProto))
		g.next = append(g.next, 0)
	}
	for _, cc := range g.clients {
		g.readers = append(g.readers, newMirrorReader(cc, len(g.clients)))
	}
	return g, srv
}

// TestStreamMirrorNATSRestart is TestMirrorNATSRestart on durable
// servers: NATS stops while all six clients keep sending, each server
// serves its own clients throughout, and once NATS is back every client
// has every message of every sender, in order, once: the 1200 remote
// deliveries of the outage included.
func TestStreamMirrorNATSRestart(t *testing.T) {
	js := startJetStream(t)
	g, srv := startDurableGroup(t, js)

	const n = 50
	last := g.send(t, everyone, n)
	g.wait(t, "before the outage", everyone, everyone, last)

	js.stop()
	for i, s := range srv {
		if !waitFor(10*time.Second, func() bool { return !s.bp.Conn().IsConnected() }) {
			t.Fatalf("server %d still connected after NATS stopped", i)
		}
	}
	outFirst := last + 1
	last = g.send(t, everyone, n)
	outLast := last
	for in := 0; in < 3; in++ {
		local := []int{2 * in, 2*in + 1}
		g.wait(t, fmt.Sprintf("server %d during the outage", in), local, local, last)
	}
	for i, s := range srv {
		if st := s.st.Stats(); st.Buffered != 2*n {
			t.Errorf("server %d buffers %d messages during the outage, want %d", i, st.Buffered, 2*n)
		}
	}

	js.start()
	g.wait(t, "after the restart", everyone, everyone, last)
	// Remote deliveries of the outage's messages: every reader has
	// reached the last one; those it skipped are in its lost list.
	arrived, due := 0, 0
	for i, r := range g.readers {
		r.mu.Lock()
		for s := range g.clients {
			if s/2 == i/2 {
				continue
			}
			due += outLast - outFirst + 1
			arrived += outLast - outFirst + 1
			for _, seq := range r.lost[s] {
				if seq >= outFirst && seq <= outLast {
					arrived--
				}
			}
		}
		r.mu.Unlock()
	}
	last = g.send(t, everyone, n)
	g.wait(t, "after the outage", everyone, everyone, last)
	if lost := g.check(t); lost != 0 {
		t.Fatalf("%d messages lost", lost)
	}
	for i, r := range g.readers {
		if r.count != 6*3*n {
			t.Errorf("reader %d got %d messages, want %d", i, r.count, 6*3*n)
		}
	}
	t.Logf("outage: %d of %d remote deliveries of messages sent while NATS was down arrived", arrived, due)
	if arrived != due {
		t.Errorf("%d of %d remote deliveries of the outage arrived", arrived, due)
	}
	for i, s := range srv {
		t.Logf("server %d: %+v", i, s.st.Stats())
	}
}

// TestStreamMirrorServerRestart: one server stops while the clients of
// the other two keep sending; its clients, presenting their positions,
// reconnect to it once it is back on the same port (the same instance,
// resuming its consumer) and recover what they missed; in the end every
// client has every message, in order per sender, once.
func TestStreamMirrorServerRestart(t *testing.T) {
	js := startJetStream(t)
	var srv []*durableServer
	for i := 0; i < 3; i++ {
		srv = append(srv, startDurableServer(t, js.url(), "restart", fmt.Sprintf("s%d", i), nil))
		srv[i].ready(t)
	}
	// Six framed clients, two per server; each reconnects to its server
	// with its position whenever its connection ends.
	const clients = 6
	readers := make([]*streamReader, clients)
	conns := make([]*reconnecting, clients)
	for i := range conns {
		readers[i] = newStreamReader()
		conns[i] = startReconnecting(t, srv[i/2], readers[i])
	}
	next := make([]int, clients)
	sendFrom := func(senders []int, n int) {
		var wg sync.WaitGroup
		for _, s := range senders {
			wg.Add(1)
			from := next[s]
			next[s] += n
			go func(s, from int) {
				defer wg.Done()
				for seq := from; seq < from+n; seq++ {
					if err := conns[s].send(fmt.Sprintf("%d %d", s, seq)); err != nil {
						t.Errorf("sender %d: %v", s, err)
						return
					}
				}
			}(s, from)
		}
		wg.Wait()
	}
	waitAll := func(what string) {
		t.Helper()
		for i, r := range readers {
			for s := 0; s < clients; s++ {
				if !waitFor(30*time.Second, func() bool { return next[s] == 0 || r.reached(next[s]-1, []int{s}) }) {
					r.mu.Lock()
					t.Fatalf("%s: reader %d did not get %d from sender %d: last %v", what, i, next[s]-1, s, r.last)
					r.mu.Unlock()
				}
			}
		}
	}
	const n = 50
	sendFrom(everyone, n)
	waitAll("before the restart")

	others := []int{0, 1, 4, 5}
	done := make(chan struct{})
	go func() { defer close(done); sendFrom(others, n) }()
	srv[1].stop()
	readBefore := srv[1].st.Stats().Received
	<-done
	sendFrom(others, n)
	srv[1].start()
	for _, i := range []int{2, 3} {
		if !waitFor(20*time.Second, func() bool { return conns[i].connections() >= 2 }) {
			t.Fatalf("client %d did not reconnect to the restarted server", i)
		}
	}
	sendFrom(everyone, n)
	waitAll("after the restart")

	// The restarted server resumed its consumer: it read what was
	// published while it was away (and at most what it had read in its
	// last moments again).
	if after := srv[1].st.Stats().Received; readBefore+after < 20*n {
		t.Errorf("server 1 read %d messages before its restart and %d after: %d of the %d never", readBefore, after, 20*n-readBefore-after, 20*n)
	}
	for i, r := range readers {
		r.check(t, fmt.Sprintf("reader %d", i))
		r.mu.Lock()
		if r.count != 4*4*n+2*2*n || r.lost != 0 || r.statuses[backplane.NotRecovered] != 0 || r.statuses[backplane.Gap] != 0 {
			t.Errorf("reader %d: %d messages (want %d), %d lost, statuses %v", i, r.count, 4*4*n+2*2*n, r.lost, r.statuses)
		}
		if i/2 == 1 && r.statuses[backplane.Recovered] == 0 {
			t.Errorf("reader %d (of the restarted server) never recovered: statuses %v", i, r.statuses)
		}
		r.mu.Unlock()
	}
	for i, s := range srv {
		t.Logf("server %d: %+v", i, s.st.Stats())
	}
}

// reconnecting is a framed mirror client that reconnects to its server,
// presenting its position, whenever its connection ends, until the test
// ends.
type reconnecting struct {
	mu    sync.Mutex
	c     *backplane.Client
	conns int // connections made
}

func startReconnecting(t *testing.T, srv *durableServer, r *streamReader) *reconnecting {
	rc := &reconnecting{}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	t.Cleanup(func() {
		cancel()
		rc.mu.Lock()
		if rc.c != nil {
			rc.c.Close(1000, "")
		}
		rc.mu.Unlock()
		<-stopped
	})
	go func() {
		defer close(stopped)
		since := ""
		for ctx.Err() == nil {
			dctx, dcancel := context.WithTimeout(ctx, 2*time.Second)
			c, err := backplane.Dial(dctx, srv.url("span"), since, &lws.DialOptions{Protocols: []string{mirrorProto}})
			dcancel()
			if err != nil {
				time.Sleep(20 * time.Millisecond) // the server is restarting: try again
				continue
			}
			rc.mu.Lock()
			rc.c = c
			rc.conns++
			rc.mu.Unlock()
			r.readAll(c)
			since = c.Position()
			rc.mu.Lock()
			rc.c = nil
			rc.mu.Unlock()
			c.Close(1000, "")
		}
	}()
	return rc
}

// connections is how many connections were made so far.
func (rc *reconnecting) connections() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.conns
}

// send sends on the current connection, waiting for one.
func (rc *reconnecting) send(msg string) error {
	var c *backplane.Client
	if !waitFor(20*time.Second, func() bool {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		c = rc.c
		return c != nil
	}) {
		return fmt.Errorf("no connection to send %q", msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return c.Conn().WriteMessage(ctx, lws.WriteText, []byte(msg))
}

// TestStreamBufferFull: while NATS is down a server keeps its clients'
// messages, up to BufferMsgs; the next one is refused with a clear,
// counted error (the mirror closes its sender with 1013), reaches no
// client, and the kept ones reach every client once NATS is back.
func TestStreamBufferFull(t *testing.T) {
	js := startJetStream(t)
	opts := &backplane.StreamOptions{BufferMsgs: 10}
	var srv []*durableServer
	for i := 0; i < 2; i++ {
		srv = append(srv, startDurableServer(t, js.url(), "bufferfull", fmt.Sprintf("s%d", i), opts))
		srv[i].ready(t)
	}
	local, remote := newStreamReader(), newStreamReader()
	a := dialStream(t, srv[0].url("r"), "")
	b := dialStream(t, srv[1].url("r"), "")
	aDone, bDone := make(chan struct{}), make(chan struct{})
	go func() { defer close(aDone); local.readAll(a) }()
	go func() { defer close(bDone); remote.readAll(b) }()

	js.stop()
	if !waitFor(10*time.Second, func() bool { return !srv[0].bp.Conn().IsConnected() }) {
		t.Fatal("still connected")
	}
	sender := dial(t, srv[0].url("r"), mirrorProto)
	for i := 0; i < 11; i++ {
		send(t, sender, fmt.Sprintf("0 %d", i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		_, _, err := sender.ReadMessage(ctx)
		var ce *lws.CloseError
		if errors.As(err, &ce) {
			if ce.Code != wsproto.CloseTryAgainLater {
				t.Fatalf("sender closed with %v, want 1013", ce)
			}
			break
		}
		if err != nil {
			t.Fatalf("sender: %v", err)
		}
	}
	if !waitFor(20*time.Second, func() bool { return local.reached(9, []int{0}) }) {
		t.Fatalf("the local client did not get the 10 buffered messages: last %v", local.last)
	}
	if st := srv[0].st.Stats(); st.BufferFull != 1 || st.Buffered != 10 {
		t.Fatalf("stats %+v: want 1 refused, 10 buffered", st)
	}

	js.start()
	if !waitFor(20*time.Second, func() bool { return remote.reached(9, []int{0}) }) {
		t.Fatalf("the remote client did not get the 10 buffered messages: last %v", remote.last)
	}
	sender = dial(t, srv[0].url("r"), mirrorProto)
	send(t, sender, "0 10")
	for _, r := range []*streamReader{local, remote} {
		if !waitFor(20*time.Second, func() bool { return r.reached(10, []int{0}) }) {
			t.Fatalf("message 10 did not arrive: last %v", r.last)
		}
	}
	a.Close(1000, "")
	b.Close(1000, "")
	<-aDone
	<-bDone
	for name, r := range map[string]*streamReader{"local": local, "remote": remote} {
		r.check(t, name)
		if r.count != 11 || r.lost != 0 {
			t.Errorf("%s client: %d messages, %d lost; want 11, 0", name, r.count, r.lost)
		}
	}
	t.Logf("server 0: %+v", srv[0].st.Stats())
	// Closing twice is harmless; a closed stream refuses to publish.
	srv[0].stop()
	srv[0].bp.Close()
	if err := srv[0].st.Publish("r", []byte("late")); !errors.Is(err, backplane.ErrStreamClosed) {
		t.Errorf("Publish after Close: %v, want ErrStreamClosed", err)
	}
}
