package backplane_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/backplane"
	"github.com/lws-go/lws/backplane/internal/spanmirror"
	natsserver "github.com/nats-io/nats-server/v2/server"
)

// startNATS runs an embedded NATS server on 127.0.0.1:port (0: any) and
// returns it; the test's cleanup shuts it down.
func startNATS(t testing.TB, port int) *natsserver.Server {
	t.Helper()
	if port == 0 {
		port = natsserver.RANDOM_PORT
	}
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatalf("nats server: %v", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatalf("nats server not ready")
	}
	t.Cleanup(ns.Shutdown)
	return ns
}

func natsPort(ns *natsserver.Server) int { return ns.Addr().(*net.TCPAddr).Port }

// instance is one lws server of a group.
type instance struct {
	svc *lws.Service
	bp  *backplane.Backplane
	url string
}

// startService runs svc until the test ends.
func startService(t testing.TB, svc *lws.Service) {
	done := make(chan error, 1)
	go func() { done <- svc.Run() }()
	t.Cleanup(func() {
		svc.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return after Close")
		}
	})
}

func connect(t testing.TB, natsURL, prefix string) *backplane.Backplane {
	t.Helper()
	bp, err := backplane.Connect(natsURL, &backplane.Options{Prefix: prefix, ReconnectWait: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { bp.Close() })
	return bp
}

// startMirrorInstance runs a service with the spanning mirror on
// 127.0.0.1.
func startMirrorInstance(t testing.TB, natsURL, prefix string) *instance {
	t.Helper()
	bp := connect(t, natsURL, prefix)
	p, start := spanmirror.New(bp)
	svc, err := lws.New(lws.Config{Addr: "127.0.0.1:0", Protocols: []*lws.Protocol{p}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := start(svc); err != nil {
		t.Fatalf("start: %v", err)
	}
	startService(t, svc)
	if err := bp.Flush(10 * time.Second); err != nil { // the subscription is on the server
		t.Fatalf("Flush: %v", err)
	}
	return &instance{svc: svc, bp: bp, url: fmt.Sprintf("ws://127.0.0.1:%d/?mirror=span", svc.Port())}
}

func dial(t testing.TB, url, proto string) *lws.ClientConn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cc, err := lws.Dial(ctx, url, &lws.DialOptions{Protocols: []string{proto}})
	if err != nil {
		t.Fatalf("Dial %s: %v", url, err)
	}
	t.Cleanup(func() { cc.Close(1000, "") })
	return cc
}

// mirrorReader reads "<sender> <seq>" messages and keeps, per sender, the
// last number and the numbers that never came.
type mirrorReader struct {
	mu    sync.Mutex
	last  map[int]int   // sender -> last seq (-1: none)
	lost  map[int][]int // sender -> seqs skipped
	count int
	errs  []string
	done  chan struct{}
}

func newMirrorReader(cc *lws.ClientConn, senders int) *mirrorReader {
	r := &mirrorReader{last: map[int]int{}, lost: map[int][]int{}, done: make(chan struct{})}
	for s := 0; s < senders; s++ {
		r.last[s] = -1
	}
	go func() {
		defer close(r.done)
		for {
			_, msg, err := cc.ReadMessage(context.Background())
			if err != nil {
				return
			}
			r.add(string(msg))
		}
	}()
	return r
}

func (r *mirrorReader) add(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, b, ok := strings.Cut(msg, " ")
	s, err1 := strconv.Atoi(a)
	seq, err2 := strconv.Atoi(b)
	last, known := r.last[s]
	if !ok || err1 != nil || err2 != nil || !known {
		r.errs = append(r.errs, fmt.Sprintf("bad message %q", msg))
		return
	}
	if seq <= last {
		r.errs = append(r.errs, fmt.Sprintf("sender %d: %d after %d (duplicate or out of order)", s, seq, last))
		return
	}
	for n := last + 1; n < seq; n++ {
		r.lost[s] = append(r.lost[s], n)
	}
	r.last[s] = seq
	r.count++
}

// reached reports whether the reader got seq (or later) from every sender
// in senders.
func (r *mirrorReader) reached(seq int, senders []int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range senders {
		if r.last[s] < seq {
			return false
		}
	}
	return true
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}
