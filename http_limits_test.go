package lws

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// runServiceInternal runs a service on a free loopback port until the test
// ends.
func runServiceInternal(t *testing.T, cfg Config) *Service {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	svc, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- svc.Run() }()
	t.Cleanup(func() {
		svc.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("Run did not return after Close")
		}
	})
	return svc
}

// onLoop runs f on loop 0 of svc and waits for it.
func onLoop(t *testing.T, svc *Service, f func(l *serviceLoop)) {
	t.Helper()
	ran := make(chan struct{})
	l := svc.loops[0]
	if err := l.ev.Post(func() { f(l); close(ran) }); err != nil {
		t.Fatalf("Post: %v", err)
	}
	select {
	case <-ran:
	case <-time.After(20 * time.Second):
		t.Fatal("the loop did not run a posted function")
	}
}

// liveHeap is the heap in use after a collection.
func liveHeap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// pipelineCase is a client that pipelines requests and reads no answer.
type pipelineCase struct {
	name     string
	conns    int
	requests int    // per connection
	path     string // requested every time
	limit    int    // Limits.WriteBufferSize; 0 for the default
	answer   func(r *HTTPRequest, seq int)
	// number, when set, writes into want (a copy of the first answer)
	// what makes the i-th answer differ from the first
	number func(want []byte, i int)
}

// TestPipelinedHTTPBounded: clients pipeline tens of thousands of requests
// and do not read the answers (lws-test-server's scenario: 4 clients x
// 20,000 GET / of its 12.8 KB page; 1 client asking for a missing file
// again and again, here with a smaller limit). The server stops reading each connection once more
// than Limits.WriteBufferSize of answers wait, so what it queues per
// connection stays within that plus one answer, and its heap within a
// few times the limit per connection, instead of growing by the
// gigabytes the answers add up to. A client that then reads gets every
// answer, whole and in order: reading resumed as the output drained. Once
// the clients close, the heap returns to where it was, but for the loop's
// buffer pool.
func TestPipelinedHTTPBounded(t *testing.T) {
	page := bytes.Repeat([]byte("0123456789abcdef"), 12793/16+1)[:12793]
	root := t.TempDir()
	cases := []pipelineCase{
		{
			name: "4 clients x 20000 GET / of a 12.8 KB page", conns: 4, requests: 20000, path: "/",
			answer: func(r *HTTPRequest, seq int) {
				body := append([]byte(fmt.Sprintf("%08d", seq)), page[8:]...)
				r.Respond(200, "text/html", body)
			},
			number: func(want []byte, i int) {
				copy(want[len(want)-len(page):], fmt.Sprintf("%08d", i))
			},
		},
		{
			name: "1 client x 50000 GET of a missing file", conns: 1, requests: 50000, path: "/missing.html", limit: 256 << 10,
			answer: func(r *HTTPRequest, seq int) { r.ServeFile(root, r.Path) },
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { testPipelinedHTTPBounded(t, tc) })
	}
}

func testPipelinedHTTPBounded(t *testing.T, tc pipelineCase) {
	const answerMax = 16 << 10 // the largest answer here, head included
	base := liveHeap()
	var maxBuffered atomic.Int64
	served := map[*Conn]int{} // on the loop
	svc := runServiceInternal(t, Config{Limits: Limits{WriteBufferSize: tc.limit}, HTTP: func(r *HTTPRequest) {
		c := r.Conn()
		tc.answer(r, served[c])
		served[c]++
		if b := int64(c.Buffered()); b > maxBuffered.Load() {
			maxBuffered.Store(b)
		}
	}})
	limit := svc.limits.WriteBufferSize
	bound := int64(limit + answerMax)

	reqs := []byte(strings.Repeat("GET "+tc.path+" HTTP/1.1\r\nHost: localhost\r\n\r\n", tc.requests))
	clients := make([]net.Conn, tc.conns)
	var writers sync.WaitGroup
	for i := range clients {
		c, err := net.Dial("tcp", svc.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// What the kernel buffers is not the server's memory; keep it small
		// so the server's own queue fills early.
		c.(*net.TCPConn).SetReadBuffer(64 << 10)
		clients[i] = c
		writers.Add(1)
		go func() {
			defer writers.Done()
			c.Write(reqs) // blocks while the server holds reading; fails once closed
		}()
	}

	// Every connection ends up held, its output over half the limit.
	deadline := time.Now().Add(30 * time.Second)
	for {
		held := 0
		onLoop(t, svc, func(l *serviceLoop) {
			for c := l.conns.head; c != nil; c = c.next {
				if c.state == stateHTTP && c.rxHeld && !c.streaming() && c.Buffered() > limit/2 {
					held++
				}
			}
		})
		if b := maxBuffered.Load(); b > bound {
			t.Fatalf("%d bytes of answers queued on a connection, over WriteBufferSize %d plus one answer", b, limit)
		}
		if held == tc.conns {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d connections held with their output backed up", held, tc.conns)
		}
		time.Sleep(10 * time.Millisecond)
	}
	heap := liveHeap()
	// Per connection: its output queue (at most twice what it holds, as
	// it grows by doubling) and the unread rest of one read; then the
	// loop's buffer pool, which holds no more than the buffers the queues
	// grew out of; and this test's own requests.
	perConn := 2*int(bound) + readBufferSize
	heapBound := uint64(tc.conns*perConn + min(maxPoolBytes, tc.conns*2*int(bound)) + tc.conns*len(reqs) + 4<<20)
	t.Logf("held: largest output queue %d bytes (limit %d); heap %d MiB over the %d MiB before (bound %d MiB)",
		maxBuffered.Load(), limit, (int64(heap)-int64(base))>>20, base>>20, heapBound>>20)
	if heap > base+heapBound {
		t.Errorf("heap %d MiB over the baseline, bound %d MiB", (heap-base)>>20, heapBound>>20)
	}

	// The first client reads: every answer arrives, whole and in order.
	r := bufio.NewReaderSize(clients[0], 64<<10)
	clients[0].SetReadDeadline(time.Now().Add(30 * time.Second))
	first := readAnswer(t, r, nil)
	want := bytes.Clone(first)
	got := make([]byte, len(first))
	for i := 1; i < tc.requests; i++ {
		if tc.number != nil {
			tc.number(want, i)
		}
		readAnswer(t, r, got)
		if !bytes.Equal(got, want) {
			t.Fatalf("answer %d of %d: %.80q..., want %.80q...", i, tc.requests, got, want)
		}
	}
	if b := maxBuffered.Load(); b > bound {
		t.Errorf("%d bytes of answers queued on a connection, over WriteBufferSize %d plus one answer", b, limit)
	}

	for _, c := range clients {
		c.Close()
	}
	writers.Wait()
	deadline = time.Now().Add(20 * time.Second)
	for svc.Connections() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections left after the clients closed", svc.Connections())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if after := liveHeap(); after > base+maxPoolBytes+4<<20 {
		t.Errorf("heap %d MiB over the baseline after the clients closed, want at most the pool's %d MiB", (after-base)>>20, maxPoolBytes>>20)
	}
}

// readAnswer reads one HTTP answer with a Content-Length into buf (which
// has the answer's length when known, else is nil).
func readAnswer(t *testing.T, r *bufio.Reader, buf []byte) []byte {
	t.Helper()
	if buf != nil {
		if _, err := io.ReadFull(r, buf); err != nil {
			t.Fatalf("reading an answer: %v", err)
		}
		return buf
	}
	var head []byte
	length := -1
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			t.Fatalf("reading an answer head: %v", err)
		}
		head = append(head, line...)
		if v, ok := strings.CutPrefix(string(line), "Content-Length: "); ok {
			fmt.Sscanf(v, "%d", &length)
		}
		if string(line) == "\r\n" {
			break
		}
	}
	if length < 0 {
		t.Fatalf("answer without Content-Length: %q", head)
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		t.Fatalf("reading an answer body: %v", err)
	}
	return append(head, body...)
}
