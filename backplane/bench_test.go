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
