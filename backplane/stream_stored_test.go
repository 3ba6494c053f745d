package backplane_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lws-go/lws/backplane"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// storedMsg is one message as a stream holds it.
type storedMsg struct {
	offset uint64
	sender string // the publishing server run (its subject's last token)
	seq    uint64 // the sender's number for it
	key    string
	data   string
}

// readStored returns what the stream of durable server d's group holds,
// up to a marker it publishes first: a message of its own ("barrier"
// sender, key "barrier", which no client reads) whose acknowledgement
// means the stream has stored everything NATS queued for it before.
// first is the stream's first offset (above 1: the history lost the
// messages before it). The marker is the last message returned. Once
// per stream: the servers would take a second marker, numbered 1 again,
// for a duplicate.
func readStored(t testing.TB, js *jsServer, d *durableServer) (msgs []storedMsg, first uint64) {
	t.Helper()
	nc, err := nats.Connect(js.url())
	if err != nil {
		t.Fatalf("reading the stream: %v", err)
	}
	defer nc.Close()
	jsc, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("reading the stream: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The servers' subjects are "<prefix>.stream.<name>.<sender>"; prefix
	// and name are single tokens here.
	ack, err := jsc.Publish(ctx, d.prefix+".stream.lws-mirror-protocol.barrier", backplane.StreamEnvelope(1, "barrier", nil))
	if err != nil {
		t.Fatalf("publishing the marker: %v", err)
	}
	st, err := jsc.Stream(ctx, d.st.Name())
	if err != nil {
		t.Fatalf("reading the stream: %v", err)
	}
	first = st.CachedInfo().State.FirstSeq
	cons, err := jsc.OrderedConsumer(ctx, d.st.Name(), jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   first,
	})
	if err != nil {
		t.Fatalf("reading the stream: %v", err)
	}
	it, err := cons.Messages()
	if err != nil {
		t.Fatalf("reading the stream: %v", err)
	}
	defer it.Stop()
	for {
		m, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			t.Fatalf("reading the stream up to the marker at %d: %v", ack.Sequence, err)
		}
		md, err := m.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		seq, key, data, ok := backplane.OpenStreamEnvelope(m.Data())
		if !ok {
			t.Fatalf("stream message %d on %s is malformed", md.Sequence.Stream, m.Subject())
		}
		subj := m.Subject()
		sender := subj[len(d.prefix+".stream.lws-mirror-protocol."):]
		msgs = append(msgs, storedMsg{offset: md.Sequence.Stream, sender: sender, seq: seq, key: key, data: string(data)})
		if md.Sequence.Stream >= ack.Sequence {
			return msgs, first
		}
	}
}

// checkStored checks a stream's messages (from readStored, starting at
// first) at the source: each publishing server run's numbers follow one
// another, each once (the publisher stores every message once, in
// order, whatever happened to NATS or the run); so do each model
// sender's ("<sender> <seq>" data, key "span"). From the stream's
// start (whole) both begin at their first number. It returns, per model
// sender seen, how many of its messages the stream holds: its last
// number + 1.
func checkStored(t testing.TB, msgs []storedMsg, whole bool) map[int]int {
	t.Helper()
	runs := map[string]uint64{}
	count := map[int]int{}
	bad := 0
	fail := func(format string, args ...any) {
		if bad++; bad <= 10 {
			t.Errorf("stream: "+format, args...)
		}
	}
	for _, m := range msgs {
		if m.sender == "barrier" {
			continue
		}
		last, seen := runs[m.sender]
		if (seen || whole) && m.seq != last+1 {
			fail("run %s: number %d after %d at offset %d (duplicate, reordered or missing)", m.sender, m.seq, last, m.offset)
		}
		runs[m.sender] = m.seq
		if m.key != "span" {
			fail("key %q at offset %d", m.key, m.offset)
			continue
		}
		var s, n int
		if _, err := fmt.Sscanf(m.data, "%d %d", &s, &n); err != nil {
			fail("data %q at offset %d", m.data, m.offset)
			continue
		}
		next, seen := count[s]
		if (seen || whole) && n != next {
			fail("sender %d: %d where %d was due, at offset %d (duplicate, reordered or missing)", s, n, next, m.offset)
		}
		count[s] = n + 1
	}
	return count
}
