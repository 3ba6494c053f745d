package backplane_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/backplane"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// expectEvent reads c's next event and checks its kind (and, for a
// message, its data).
func expectEvent(t *testing.T, c *backplane.Client, kind backplane.EventKind, data string) backplane.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ev, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("reading %v %q: %v", kind, data, err)
	}
	if ev.Kind != kind || kind == backplane.Message && string(ev.Data) != data {
		t.Fatalf("got %v %q (%s %s), want %v %q", ev.Kind, ev.Data, ev.Position, ev.Reason, kind, data)
	}
	return ev
}

func send(t *testing.T, cc *lws.ClientConn, msgs ...string) {
	t.Helper()
	for _, m := range msgs {
		if err := cc.WriteMessage(context.Background(), lws.WriteText, []byte(m)); err != nil {
			t.Fatalf("send %q: %v", m, err)
		}
	}
}

func numbered(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("m%d", i))
	}
	return out
}

func dialStream(t *testing.T, url, since string) *backplane.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := backplane.Dial(ctx, url, since, &lws.DialOptions{Protocols: []string{mirrorProto}})
	if err != nil {
		t.Fatalf("Dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.Close(1000, "") })
	return c
}

// TestStreamRecovery: a client reads m0..m4 on server 0, drops its
// connection, misses m5..m24, reconnects to server 2 presenting its
// position and gets exactly m5..m24, then the live m25..m29; from the
// cache of server 2, and from the stream's history when that cache is
// too small to cover the gap.
func TestStreamRecovery(t *testing.T) {
	for _, c := range []struct {
		name    string
		cache   int
		history bool
	}{{"cache", 0, false}, {"history", 4, true}} {
		t.Run(c.name, func(t *testing.T) {
			js := startJetStream(t)
			var srv []*durableServer
			for i := 0; i < 3; i++ {
				srv = append(srv, startDurableServer(t, js.url(), "recovery", fmt.Sprintf("s%d", i), &backplane.StreamOptions{CacheMsgs: c.cache}))
				srv[i].ready(t)
			}
			sender := dial(t, srv[1].url("r"), mirrorProto)

			r := dialStream(t, srv[0].url("r"), "")
			at := expectEvent(t, r, backplane.At, "")
			if _, err := backplane.ParsePosition(at.Position); err != nil {
				t.Fatalf("!at %q: %v", at.Position, err)
			}
			send(t, sender, numbered(0, 5)...)
			for _, m := range numbered(0, 5) {
				expectEvent(t, r, backplane.Message, m)
			}
			pos := r.Position()
			r.Close(1000, "")

			send(t, sender, numbered(5, 25)...)
			// The missed messages are in the stream before the client
			// comes back (not needed, but it makes the recovery read them
			// all from the cache or the history rather than live).
			if !waitFor(20*time.Second, func() bool {
				p := srv[2].st.Position()
				return p.Offset >= 25
			}) {
				t.Fatalf("server 2 at %v", srv[2].st.Position())
			}
			before := srv[2].st.Stats()
			r2 := dialStream(t, srv[2].url("r"), pos)
			expectEvent(t, r2, backplane.Recovered, "")
			for _, m := range numbered(5, 25) {
				expectEvent(t, r2, backplane.Message, m)
			}
			send(t, sender, numbered(25, 30)...)
			for _, m := range numbered(25, 30) {
				expectEvent(t, r2, backplane.Message, m)
			}
			after := srv[2].st.Stats()
			t.Logf("server 2: %+v", after)
			if after.Recovered != before.Recovered+1 || after.FromHistory != before.FromHistory+btoi(c.history) {
				t.Fatalf("server 2 recovered %d (from history %d), want 1 (%d)", after.Recovered-before.Recovered, after.FromHistory-before.FromHistory, btoi(c.history))
			}
			// Nothing more: the next message is the next one sent.
			send(t, sender, "last")
			expectEvent(t, r2, backplane.Message, "last")
		})
	}
}

func btoi(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// TestStreamNotRecovered: a client is told plainly that it cannot be
// recovered, then gets live messages, when the history no longer holds
// what it missed, when the stream was recreated (a new epoch), and when
// its position has no epoch.
func TestStreamNotRecovered(t *testing.T) {
	js := startJetStream(t)
	opts := &backplane.StreamOptions{MaxMsgs: 10, CacheMsgs: 4}
	var srv []*durableServer
	for i := 0; i < 2; i++ {
		srv = append(srv, startDurableServer(t, js.url(), "notrecovered", fmt.Sprintf("s%d", i), opts))
		srv[i].ready(t)
	}
	sender := dial(t, srv[0].url("r"), mirrorProto)
	// A client that stays connected throughout.
	lc := dialStream(t, srv[1].url("r"), "")
	live := make(chan backplane.Event, 100)
	go func() {
		defer close(live)
		for {
			ev, err := lc.Read(context.Background())
			if err != nil {
				return
			}
			live <- ev
		}
	}()

	r := dialStream(t, srv[0].url("r"), "")
	expectEvent(t, r, backplane.At, "")
	send(t, sender, "a")
	expectEvent(t, r, backplane.Message, "a")
	pos := r.Position()
	r.Close(1000, "")

	// 30 messages: the history keeps the last 10, server 1's cache 4.
	send(t, sender, numbered(0, 30)...)
	if !waitFor(20*time.Second, func() bool { return srv[1].st.Position().Offset >= 31 }) {
		t.Fatalf("server 1 at %v", srv[1].st.Position())
	}
	r2 := dialStream(t, srv[1].url("r"), pos)
	ev := expectEvent(t, r2, backplane.NotRecovered, "")
	if !strings.Contains(ev.Reason, "history") {
		t.Errorf("reason %q", ev.Reason)
	}
	send(t, sender, "live")
	expectEvent(t, r2, backplane.Message, "live")
	pos = r2.Position()
	r2.Close(1000, "")

	// The stream is deleted: the servers recreate it, a new epoch.
	nc, err := nats.Connect(js.url())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	jsc, _ := jetstream.New(nc)
	oldEpoch := srv[1].st.Position().Epoch
	if err := jsc.DeleteStream(context.Background(), srv[1].st.Name()); err != nil {
		t.Fatal(err)
	}
	for i, s := range srv {
		if !waitFor(20*time.Second, func() bool { p := s.st.Position(); return p.Epoch != "" && p.Epoch != oldEpoch }) {
			t.Fatalf("server %d still in epoch %q", i, s.st.Position().Epoch)
		}
	}
	r3 := dialStream(t, srv[1].url("r"), pos)
	ev = expectEvent(t, r3, backplane.NotRecovered, "")
	if !strings.Contains(ev.Reason, "epoch") {
		t.Errorf("reason %q", ev.Reason)
	}
	send(t, sender, "new epoch")
	expectEvent(t, r3, backplane.Message, "new epoch")
	// A position without an epoch (given by a server that had not
	// reached the stream) says nothing of what the client missed.
	r4 := dialStream(t, srv[1].url("r"), "0.0~abc.3")
	ev = expectEvent(t, r4, backplane.NotRecovered, "")
	if !strings.HasPrefix(ev.Reason, "no epoch") {
		t.Errorf("reason %q", ev.Reason)
	}
	// The client connected throughout got every message, was told of
	// the new epoch (a gap), then got the message of the new epoch.
	var got []string
	for ev := range live {
		got = append(got, ev.Kind.String()+" "+string(ev.Data))
		if string(ev.Data) == "new epoch" {
			break
		}
	}
	want := []string{"at "}
	for _, m := range append(append([]string{"a"}, numbered(0, 30)...), "live") {
		want = append(want, "message "+m)
	}
	want = append(want, "gap ", "message new epoch")
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("the live client got %q\nwant %q", got, want)
	}
	for i, s := range srv {
		t.Logf("server %d: %+v", i, s.st.Stats())
	}
}

// TestStreamJoinBeforeNATS: a client joins a server that has not reached
// NATS yet (its position has no epoch); once NATS is up, the messages it
// gets carry the stream's epoch and, reconnecting to another server, it
// recovers what it missed.
func TestStreamJoinBeforeNATS(t *testing.T) {
	js := startJetStream(t)
	js.stop()
	s0 := startDurableServer(t, js.url(), "early", "s0", nil)
	r := dialStream(t, s0.url("r"), "")
	if ev := expectEvent(t, r, backplane.At, ""); ev.Position != "0.0" {
		t.Fatalf("joined at %q before NATS, want 0.0", ev.Position)
	}
	js.start()
	s0.ready(t)
	s1 := startDurableServer(t, js.url(), "early", "s1", nil)
	s1.ready(t)
	sender := dial(t, s1.url("r"), mirrorProto)
	send(t, sender, "one")
	if ev := expectEvent(t, r, backplane.Message, "one"); !strings.HasPrefix(ev.Position, s1.st.Position().Epoch+".") {
		t.Fatalf("position %q, want one in epoch %q", ev.Position, s1.st.Position().Epoch)
	}
	pos := r.Position()
	r.Close(1000, "")
	send(t, sender, "two")
	r2 := dialStream(t, s1.url("r"), pos)
	expectEvent(t, r2, backplane.Recovered, "")
	expectEvent(t, r2, backplane.Message, "two")
}
