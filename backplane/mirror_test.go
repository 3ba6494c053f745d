package backplane_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lws-go/lws"
)

const mirrorProto = "lws-mirror-protocol"

// group is three mirror instances with two clients each: client i is on
// instance i/2, sends as sender i and reads everything.
type group struct {
	insts   []*instance
	clients []*lws.ClientConn
	readers []*mirrorReader
	next    []int // next seq per sender
}

func startGroup(t *testing.T, natsURL string) *group {
	g := &group{}
	for i := 0; i < 3; i++ {
		g.insts = append(g.insts, startMirrorInstance(t, natsURL, t.Name()))
	}
	for i := 0; i < 6; i++ {
		g.clients = append(g.clients, dial(t, g.insts[i/2].url, mirrorProto))
		g.next = append(g.next, 0)
	}
	for _, cc := range g.clients {
		g.readers = append(g.readers, newMirrorReader(cc, len(g.clients)))
	}
	return g
}

// send makes every sender in senders send n messages, concurrently, and
// returns the last seq sent.
func (g *group) send(t *testing.T, senders []int, n int) int {
	var wg sync.WaitGroup
	last := 0
	for _, s := range senders {
		wg.Add(1)
		from := g.next[s]
		g.next[s] += n
		last = g.next[s] - 1
		go func(s, from int) {
			defer wg.Done()
			for seq := from; seq < from+n; seq++ {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				err := g.clients[s].WriteMessage(ctx, lws.WriteText, []byte(strconv.Itoa(s)+" "+strconv.Itoa(seq)))
				cancel()
				if err != nil {
					t.Errorf("sender %d seq %d: %v", s, seq, err)
					return
				}
			}
		}(s, from)
	}
	wg.Wait()
	return last
}

// wait waits until the readers in readers got seq from every sender in
// senders.
func (g *group) wait(t *testing.T, what string, readers, senders []int, seq int) {
	t.Helper()
	for _, r := range readers {
		if !waitFor(30*time.Second, func() bool { return g.readers[r].reached(seq, senders) }) {
			g.readers[r].mu.Lock()
			t.Fatalf("%s: reader %d (instance %d) did not get message %d from senders %v: last %v", what, r, r/2, seq, senders, g.readers[r].last)
			g.readers[r].mu.Unlock()
		}
	}
}

func (g *group) check(t *testing.T) (lost int) {
	t.Helper()
	for i, r := range g.readers {
		r.mu.Lock()
		for _, e := range r.errs {
			t.Errorf("reader %d: %s", i, e)
		}
		for _, l := range r.lost {
			lost += len(l)
		}
		r.mu.Unlock()
	}
	return lost
}

var everyone = []int{0, 1, 2, 3, 4, 5}

// TestMirrorAcrossInstances: three servers on one NATS, two mirror
// clients each; every client's messages reach all six clients, in order,
// none duplicated, none lost.
func TestMirrorAcrossInstances(t *testing.T) {
	ns := startNATS(t, 0)
	g := startGroup(t, ns.ClientURL())
	const n = 300
	start := time.Now()
	last := g.send(t, everyone, n)
	g.wait(t, "mirror", everyone, everyone, last)
	elapsed := time.Since(start)
	if lost := g.check(t); lost != 0 {
		t.Fatalf("%d messages lost", lost)
	}
	for i, r := range g.readers {
		if r.count != 6*n {
			t.Errorf("reader %d got %d messages, want %d", i, r.count, 6*n)
		}
	}
	for i, in := range g.insts {
		st := in.bp.Stats()
		t.Logf("instance %d: %+v", i, st)
		if st.Published != 2*n || st.Received != 4*n {
			t.Errorf("instance %d: published %d received %d, want %d and %d", i, st.Published, st.Received, 2*n, 4*n)
		}
	}
	t.Logf("%d messages from 6 clients on 3 instances, each delivered to 6 clients (%d deliveries) in %v", 6*n, 36*n, elapsed.Round(time.Millisecond))
}

// TestMirrorNATSRestart: NATS stops while clients send and starts again on
// the same port. Each instance serves its local clients throughout (local
// readers get every local message); messages published while NATS was away
// reach the others as far as the reconnect buffers and the reconnect order
// allow, never twice or out of order; once every instance is back,
// cross-instance delivery is whole again.
func TestMirrorNATSRestart(t *testing.T) {
	ns := startNATS(t, 0)
	port := natsPort(ns)
	g := startGroup(t, ns.ClientURL())

	const n = 50
	last := g.send(t, everyone, n)
	g.wait(t, "before the outage", everyone, everyone, last)

	ns.Shutdown()
	ns.WaitForShutdown()
	for i, in := range g.insts {
		if !waitFor(10*time.Second, func() bool { return !in.bp.Conn().IsConnected() }) {
			t.Fatalf("instance %d still connected after NATS stopped", i)
		}
	}
	// Local service goes on: every instance's readers get every message
	// of their own instance's senders.
	outFirst := last + 1
	last = g.send(t, everyone, n)
	for in := 0; in < 3; in++ {
		local := []int{2 * in, 2*in + 1}
		g.wait(t, fmt.Sprintf("instance %d during the outage", in), local, local, last)
	}
	outLast := last
	// A new client is served too.
	cc := dial(t, strings.Replace(g.insts[0].url, "mirror=span", "mirror=other", 1), mirrorProto)
	if err := cc.WriteMessage(context.Background(), lws.WriteText, []byte("hello")); err != nil {
		t.Fatalf("new client during the outage: %v", err)
	}
	if _, msg, err := cc.ReadMessage(context.Background()); err != nil || string(msg) != "hello" {
		t.Fatalf("new client during the outage: got %q, %v", msg, err)
	}
	cc.Close(1000, "")

	ns2 := startNATS(t, port)
	for i, in := range g.insts {
		if !waitFor(30*time.Second, func() bool { return in.bp.Conn().IsConnected() }) {
			t.Fatalf("instance %d did not reconnect", i)
		}
		if err := in.bp.Flush(10 * time.Second); err != nil {
			t.Fatalf("instance %d: Flush after reconnect: %v", i, err)
		}
	}
	_ = ns2
	last = g.send(t, everyone, n)
	g.wait(t, "after the restart", everyone, everyone, last)

	// Losses only of remote messages sent during the outage.
	lost := 0
	for i, r := range g.readers {
		r.mu.Lock()
		for s, seqs := range r.lost {
			for _, seq := range seqs {
				if s/2 == i/2 || seq < outFirst || seq > outLast {
					t.Errorf("reader %d lost message %d of sender %d (local or outside the outage)", i, seq, s)
				}
			}
			lost += len(seqs)
		}
		r.mu.Unlock()
	}
	g.check(t)
	remote := 6 * 4 * n // outage messages meant for remote readers
	t.Logf("outage: %d of %d remote deliveries of messages sent while NATS was down arrived after the restart (the rest: published before the receiver's subscription was back, or never)", remote-lost, remote)
	for i, in := range g.insts {
		t.Logf("instance %d: %+v reconnects %d", i, in.bp.Stats(), in.bp.Conn().Stats().Reconnects)
	}
}
