package lws_test

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/logging"
)

// shutdownSlack is how long after its context's end Shutdown may take to
// return: the longest sweep period, by which every limit the loops watch
// may act late (Limits.HandshakeTimeout). Ending what is left takes one
// loop iteration and closing the sockets, far less.
const shutdownSlack = time.Second

// byteCounter counts the bytes written to it.
type byteCounter struct{ n *atomic.Int64 }

func (w byteCounter) Write(p []byte) (int, error) {
	w.n.Add(int64(len(p)))
	return len(p), nil
}

// TestShutdownDeadlineUnderLoad: 200 WebSocket clients read everything
// and never answer the close, and 4 goroutines have just broadcast to them
// far more than the loops can send: each loop has a long backlog of posted
// work (a broadcast reaching its 100 or 200 connections, then their
// send pumps). Shutdown with a 1s context returns by its deadline (plus
// shutdownSlack) with context.DeadlineExceeded: the close is not queued
// behind that backlog. Every connection is gone then, and no fd or
// goroutine is left.
func TestShutdownDeadlineUnderLoad(t *testing.T) {
	for _, loops := range []int{1, 2} {
		t.Run(map[int]string{1: "1 loop", 2: "2 loops"}[loops], func(t *testing.T) { testShutdownDeadlineUnderLoad(t, loops) })
	}
}

func testShutdownDeadlineUnderLoad(t *testing.T, loops int) {
	const (
		clients, broadcasters = 200, 4
		perBroadcaster        = 20000 // 200 B each: 3.2 GB to fan out
		grace                 = time.Second
	)
	quiet := logging.LogLevel()
	logging.SetLogLevel(logging.Err, nil) // not a warning per client whose queue overflows
	t.Cleanup(func() { logging.SetLogLevel(quiet, nil) })
	base := quietBaseline(t)
	feed := &lws.Protocol{Name: "feed"}
	svc, done := runService(t, lws.Config{Loops: loops, Protocols: []*lws.Protocol{feed}})

	var received atomic.Int64
	var readers sync.WaitGroup
	for i := 0; i < clients; i++ {
		rc := dialWS(t, svc, "feed")
		readers.Add(1)
		go func() {
			defer readers.Done()
			rc.SetReadDeadline(time.Now().Add(time.Minute))
			io.Copy(byteCounter{&received}, rc.r) // never answers the close
			rc.Close()
		}()
	}
	waitCond(t, "every client connected", func() bool { return svc.Connections() == clients })

	var senders sync.WaitGroup
	msg := make([]byte, 200)
	for i := 0; i < broadcasters; i++ {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for range perBroadcaster {
				// The loops' backlog of broadcasts is bounded: a refused
				// one is load all the same.
				if err := svc.Broadcast(feed, msg, lws.WriteBinary); err != nil && !errors.Is(err, lws.ErrBroadcastBacklog) {
					t.Errorf("Broadcast: %v", err)
					return
				}
			}
		}()
	}
	senders.Wait()

	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	start := time.Now()
	err := svc.Shutdown(ctx)
	took := time.Since(start)
	t.Logf("Shutdown with a %v context returned after %v (%d MiB had reached the clients)", grace, took, received.Load()>>20)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown: %v, want context.DeadlineExceeded (the clients never answer the close)", err)
	}
	if took > grace+shutdownSlack {
		t.Errorf("Shutdown returned %v after it was called, past its %v deadline by more than %v", took, grace, shutdownSlack)
	}
	if n := svc.Connections(); n != 0 {
		t.Errorf("%d connections left after Shutdown returned", n)
	}
	if err := svc.Broadcast(feed, msg, lws.WriteBinary); !errors.Is(err, lws.ErrServiceClosed) {
		t.Errorf("Broadcast after Shutdown: %v, want ErrServiceClosed", err)
	}
	waitRun(t, done)
	readers.Wait()
	waitBaseline(t, base, "after Shutdown under load")
}
