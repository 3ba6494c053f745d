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
	for _, c := range []struct {
		where  string
		window int64
	}{{"local", 1}, {"remote", 1}, {"local", 256}, {"remote", 256}} {
		where, window := c.where, c.window
		b.Run(fmt.Sprintf("%s/window=%d", where, window), func(b *testing.B) {
			svcA, bc := broadcastInstance(b, ns.ClientURL())
			svcB, _ := broadcastInstance(b, ns.ClientURL())
			target := svcA
			if where == "remote" {
				target = svcB
			}
			cc := dial(b, fmt.Sprintf("ws://127.0.0.1:%d/", target.Port()), "bench")
			// The client is established on the server once a broadcast
			// reaches it.
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
				if err := bc.Broadcast(msg, lws.WriteBinary); err != nil {
					b.Fatalf("Broadcast: %v", err)
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
		})
	}
}
