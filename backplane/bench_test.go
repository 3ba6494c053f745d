package backplane_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/backplane"
	"github.com/lws-go/lws/wsproto"
)

// broadcastInstance runs a service with protocol "bench" linked to the
// group.
func broadcastInstance(b *testing.B, natsURL string) (*lws.Service, *backplane.Broadcaster) {
	bp := connect(b, natsURL, b.Name())
	p := &lws.Protocol{Name: "bench"}
	svc, err := lws.New(lws.Config{Addr: "127.0.0.1:0", Protocols: []*lws.Protocol{p}})
	if err != nil {
		b.Fatalf("New: %v", err)
	}
	bc, err := bp.Broadcaster(svc, p)
	if err != nil {
		b.Fatalf("Broadcaster: %v", err)
	}
	startService(b, svc)
	if err := bp.Flush(10 * time.Second); err != nil {
		b.Fatalf("Flush: %v", err)
	}
	return svc, bc
}

// BenchmarkFanout broadcasts b.N timestamped 64-byte messages from one
// instance with at most window in flight (1: the unloaded latency; 256:
// throughput, the latency then includes queueing) and measures, on a client of the
// receiving instance, messages per second and the latency from Broadcast
// to the client's ReadMessage: "local" reads on the broadcasting instance
// (Service.Broadcast alone, the single-instance figure), "remote" on
// another instance of the group (through NATS).
func BenchmarkFanout(b *testing.B) {
	ns := startNATS(b, 0)
	for _, c := range fanoutCases {
		b.Run(fmt.Sprintf("%s/window=%d", c.where, c.window), func(b *testing.B) {
			svcA, bc := broadcastInstance(b, ns.ClientURL())
			svcB, _ := broadcastInstance(b, ns.ClientURL())
			target := svcA
			if c.where == "remote" {
				target = svcB
			}
			measureFanout(b, target, c.window, func(msg []byte) error { return bc.Broadcast(msg, lws.WriteBinary) })
		})
	}
}

// BenchmarkDurableFanout is BenchmarkFanout on a durable Stream of the
// embedded JetStream, in files or in memory: Stream.Publish on one
// instance, read by a client served with Stream.Serve on the same
// ("local": the message goes through the stream too) or another
// instance.
func BenchmarkDurableFanout(b *testing.B) {
	js := startJetStream(b)
	for _, storage := range []string{"file", "memory"} {
		for _, c := range fanoutCases {
			b.Run(fmt.Sprintf("%s/%s/window=%d", storage, c.where, c.window), func(b *testing.B) {
				opts := &backplane.StreamOptions{Binary: true, Memory: storage == "memory"}
				svcA, stA := streamInstance(b, js.url(), opts)
				svcB, _ := streamInstance(b, js.url(), opts)
				target := svcA
				if c.where == "remote" {
					target = svcB
				}
				measureFanout(b, target, c.window, func(msg []byte) error { return stA.Publish("", msg) })
			})
		}
	}
}

var fanoutCases = []struct {
	where  string
	window int64
}{{"local", 1}, {"remote", 1}, {"local", 256}, {"remote", 256}}

// streamInstance runs a service with protocol "bench" served from a
// durable stream of the group.
func streamInstance(b *testing.B, natsURL string, opts *backplane.StreamOptions) (*lws.Service, *backplane.Stream) {
	bp := connect(b, natsURL, "bench")
	st, err := bp.Stream(b.Name(), opts)
	if err != nil {
		b.Fatalf("Stream: %v", err)
	}
	p := &lws.Protocol{
		Name:          "bench",
		OnEstablished: func(c *lws.Conn) { st.Serve(c, "") },
		OnClosed:      func(c *lws.Conn, _ wsproto.CloseCode, _ string) { st.Leave(c) },
	}
	svc, err := lws.New(lws.Config{Addr: "127.0.0.1:0", Protocols: []*lws.Protocol{p}})
	if err != nil {
		b.Fatalf("New: %v", err)
	}
	startService(b, svc)
	if !waitFor(20*time.Second, func() bool { return st.Position().Epoch != "" }) {
		b.Fatal("the stream is not read")
	}
	return svc, st
}

// measureFanout publishes b.N timestamped 64-byte messages with at most
// window in flight and reports what a client of target reads: messages
// per second and the latency percentiles.
func measureFanout(b *testing.B, target *lws.Service, window int64, publish func(msg []byte) error) {
	cc := dial(b, fmt.Sprintf("ws://127.0.0.1:%d/", target.Port()), "bench")
	// The client is established on the server once it counts it.
	if !waitFor(10*time.Second, func() bool { return target.Connections() > 0 }) {
		b.Fatal("client not connected")
	}
	base := time.Now()
	var got atomic.Int64
	lat := make([]time.Duration, 0, b.N)
	done := make(chan error, 1)
	go func() {
		for i := 0; i < b.N; i++ {
			_, msg, err := cc.ReadMessage(context.Background())
			if err != nil {
				done <- err
				return
			}
			lat = append(lat, time.Since(base)-time.Duration(binary.BigEndian.Uint64(msg)))
			got.Add(1)
		}
		done <- nil
	}()
	msg := make([]byte, 64)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		for int64(i)-got.Load() >= window {
			time.Sleep(20 * time.Microsecond)
		}
		binary.BigEndian.PutUint64(msg, uint64(time.Since(base)))
		if err := publish(msg); err != nil {
			b.Fatalf("publish: %v", err)
		}
	}
	select {
	case err := <-done:
		if err != nil {
			b.Fatalf("read: %v", err)
		}
	case <-time.After(60 * time.Second):
		b.Fatalf("%d of %d messages arrived", got.Load(), b.N)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkDurableRecovery measures client recovery: a client of server A
// reads one message and drops its connection, 10,000 messages are
// published while it is away, and it reconnects to server B with its
// position. Each round times that reconnect up to the last missed
// message (Dial, the recovery grant, all 10,000 read from the stream's
// history, since they are more than a server's cache holds: checked by
// B's FromHistory), and checks that exactly the missed messages came, in
// order, each once, at the offsets after the position's, then a live
// one after them. Reported: milliseconds per recovery of 10,000 messages
// (ns/op is the same time) and the catch-up rate.
//
// What the defaults allow: the history (100,000 messages, 64 MiB) holds
// the gap at either size; RecoverTimeout (10s) bounds the whole read of
// the history, here well under a second. Only the publishing side needs
// more than the default: the 10,000 messages are published at once, and
// at 1 KiB they outgrow the default 8 MiB buffer (BufferBytes), which
// holds what the stream has not given back yet.
func BenchmarkDurableRecovery(b *testing.B) {
	const missed = 10000
	for _, storage := range []string{"file", "memory"} {
		for _, size := range []int{64, 1024} {
			b.Run(fmt.Sprintf("%s/%dB", storage, size), func(b *testing.B) {
				b.StopTimer() // only the recoveries are timed
				// A NATS of its own: what earlier cases stored (in this
				// process's heap, for memory storage) does not weigh on it.
				js := startJetStream(b)
				opts := &backplane.StreamOptions{Memory: storage == "memory", Binary: true, BufferBytes: 32 << 20}
				prefix := fmt.Sprintf("recovery-%s-%d", storage, size)
				srvA := startDurableServer(b, js.url(), prefix, "a", opts)
				srvB := startDurableServer(b, js.url(), prefix, "b", opts)
				srvA.ready(b)
				srvB.ready(b)
				payload := func(i int) []byte {
					p := make([]byte, size)
					binary.BigEndian.PutUint32(p, uint32(i))
					return p
				}
				dialOpts := &lws.DialOptions{Protocols: []string{mirrorProto}}
				var took time.Duration
				for round := 0; round < b.N; round++ {
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					dial := func(url, since string) *backplane.Client {
						c, err := backplane.Dial(ctx, url, since, dialOpts)
						if err != nil {
							b.Fatalf("Dial %s: %v", url, err)
						}
						return c
					}
					read := func(c *backplane.Client, what string) backplane.Event {
						ev, err := c.Read(ctx)
						if err != nil {
							b.Fatalf("reading %s: %v", what, err)
						}
						return ev
					}
					c := dial(srvA.url("r"), "")
					if ev := read(c, "the position"); ev.Kind != backplane.At {
						b.Fatalf("first event %v, want the position", ev.Kind)
					}
					if err := srvA.st.Publish("r", []byte("before")); err != nil {
						b.Fatal(err)
					}
					if ev := read(c, "the message before"); string(ev.Data) != "before" {
						b.Fatalf("read %v %q, want the message before", ev.Kind, ev.Data)
					}
					pos := c.Position()
					at, err := backplane.ParsePosition(pos)
					if err != nil {
						b.Fatal(err)
					}
					c.Close(lws.CloseNormal, "")
					for i := range missed {
						if err := srvA.st.Publish("r", payload(i)); err != nil {
							b.Fatal(err)
						}
					}
					if !waitFor(time.Minute, func() bool { return srvB.st.Position().Offset >= at.Offset+missed }) {
						b.Fatalf("server B at %v, want offset %d", srvB.st.Position(), at.Offset+missed)
					}

					fromHistory := srvB.st.Stats().FromHistory
					positions := make([]string, missed)
					b.StartTimer()
					start := time.Now()
					c = dial(srvB.url("r"), pos)
					if ev := read(c, "the recovery"); ev.Kind != backplane.Recovered {
						b.Fatalf("after reconnecting: %v %s, want the recovery granted", ev.Kind, ev.Reason)
					}
					for i := range missed {
						ev := read(c, "a missed message")
						if ev.Kind != backplane.Message || len(ev.Data) != size || binary.BigEndian.Uint32(ev.Data) != uint32(i) {
							b.Fatalf("missed message %d: %v of %d bytes, want message %d", i, ev.Kind, len(ev.Data), i)
						}
						positions[i] = ev.Position
					}
					took += time.Since(start)
					b.StopTimer()
					for i, tok := range positions {
						p, err := backplane.ParsePosition(tok)
						if err != nil || p.Epoch != at.Epoch || p.Offset != at.Offset+1+uint64(i) || len(p.Ahead) > 0 {
							b.Fatalf("missed message %d at %q (%v), want offset %d of epoch %s", i, tok, err, at.Offset+1+uint64(i), at.Epoch)
						}
					}
					if srvB.st.Stats().FromHistory != fromHistory+1 {
						b.Fatal("the recovery did not read the stream's history (10,000 messages are more than a server's cache)")
					}
					if err := srvA.st.Publish("r", []byte("live")); err != nil {
						b.Fatal(err)
					}
					ev := read(c, "the live message")
					if p, err := backplane.ParsePosition(ev.Position); ev.Kind != backplane.Message || string(ev.Data) != "live" || err != nil || p.Offset != at.Offset+missed+1 {
						b.Fatalf("after the recovery: %v %q at %q, want the live message at offset %d", ev.Kind, ev.Data, ev.Position, at.Offset+missed+1)
					}
					c.Close(lws.CloseNormal, "")
					cancel()
				}
				b.ReportMetric(float64(took.Microseconds())/1000/float64(b.N), "recover-ms")
				b.ReportMetric(float64(missed*b.N)/took.Seconds(), "msgs/s")
			})
		}
	}
}
