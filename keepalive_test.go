//go:build unix

package lws_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/wsproto"
)

// TestKeepaliveAnsweredStaysOpen: a silent peer that answers each
// keepalive PING is pinged again only after a full interval of silence and
// is never dropped.
func TestKeepaliveAnsweredStaysOpen(t *testing.T) {
	const interval, pongWait = 200 * time.Millisecond, 300 * time.Millisecond
	tr := newHostileTracker()
	svc := startService(t, lws.Config{
		Protocols: []*lws.Protocol{tr.track(wholeEcho("echo"))},
		Limits:    lws.Limits{PingInterval: interval, PongTimeout: pongWait},
	})
	lastSent := time.Now() // the server's idle clock starts after this
	rc := dialWS(t, svc, "echo")
	port := localPort(rc)
	for i := 0; i < 4; i++ {
		f, err := rc.readFrame(t)
		if err != nil || f.op != 0x9 {
			t.Fatalf("ping %d: got %v %v, want a PING", i, f, err)
		}
		if d := time.Since(lastSent); d < interval {
			t.Errorf("ping %d came %v after our last frame, before the interval %v", i, d, interval)
		}
		lastSent = time.Now()
		if _, err := rc.Write(frame(0x8A, key1, f.payload)); err != nil {
			t.Fatal(err)
		}
	}
	// Still open and serving: an echo comes back (after any PING that
	// raced with it).
	rc.Write(frame(0x81, key1, []byte("still here")))
	for {
		f, err := rc.readFrame(t)
		if err != nil {
			t.Fatalf("echo after the pings: %v", err)
		}
		if f.op == 0x9 {
			rc.Write(frame(0x8A, key1, f.payload))
			continue
		}
		if f.op != 0x1 || string(f.payload) != "still here" {
			t.Fatalf("echo after the pings: %v", f)
		}
		break
	}
	tr.mu.Lock()
	cc, closed := tr.closed[port]
	tr.mu.Unlock()
	if closed {
		t.Fatalf("a peer answering every PING was closed: %d %q", cc.code, cc.reason)
	}
}

// TestKeepaliveClient: a client connection pings a silent server after the
// protocol's PingInterval (overriding the service's) and drops it when the
// PING goes unanswered for PongTimeout.
func TestKeepaliveClient(t *testing.T) {
	const interval, pongWait = 200 * time.Millisecond, 300 * time.Millisecond
	type seen struct {
		op       wsproto.Opcode
		after    time.Duration // since the 101 was sent
		eofAfter time.Duration
		tail     int64
		err      error
	}
	got := make(chan seen, 1)
	addr := rawServer(t, func(c net.Conn, r *bufio.Reader, req *http.Request) {
		c.Write([]byte(head101 + "Sec-WebSocket-Accept: " + accept(req) + "\r\n\r\n"))
		t0 := time.Now()
		op, _, _ := readClientFrame(t, r)
		s := seen{op: op, after: time.Since(t0)}
		// Never answer: the client must hang up.
		s.tail, s.err = io.Copy(io.Discard, r)
		s.eofAfter = time.Since(t0)
		got <- s
	})
	svc := startService(t, lws.Config{Limits: lws.Limits{PingInterval: time.Hour, PongTimeout: pongWait}})
	rec := newRecorder()
	rec.proto.PingInterval = interval
	if _, err := svc.Connect(lws.ClientInfo{URL: "ws://" + addr + "/", Protocol: rec.proto}); err != nil {
		t.Fatal(err)
	}
	if ev := rec.next(t); ev.kind != "established" {
		t.Fatalf("first client event %q (%v), want established", ev.kind, ev.err)
	}
	var s seen
	select {
	case s = <-got:
	case <-time.After(20 * time.Second):
		t.Fatal("the server script did not finish")
	}
	if s.op != wsproto.OpPing {
		t.Fatalf("first client frame has opcode %v, want PING", s.op)
	}
	if s.after < interval {
		t.Errorf("PING %v after the handshake, before the interval %v", s.after, interval)
	}
	if s.err != nil || s.tail != 0 {
		t.Errorf("after the PING the client sent %d more bytes and ended with %v, want a plain EOF", s.tail, s.err)
	}
	if s.eofAfter < interval+pongWait {
		t.Errorf("client hung up %v after the handshake, before interval + pong timeout", s.eofAfter)
	}
	ev := rec.next(t)
	if ev.kind != "closed" || ev.code != wsproto.CloseAbnormal || ev.reason != "keepalive timeout" {
		t.Fatalf("client callback %q %d %q, want closed 1006 \"keepalive timeout\"", ev.kind, ev.code, ev.reason)
	}
	t.Logf("client PING after %v, hung up after %v", s.after.Round(time.Millisecond), s.eofAfter.Round(time.Millisecond))
}

// TestKeepaliveOff: with keepalive off for a protocol, an idle connection
// gets no PING while one of a protocol with keepalive on does.
func TestKeepaliveOff(t *testing.T) {
	on := wholeEcho("on")
	off := wholeEcho("off")
	off.PingInterval = -1
	svc := startService(t, lws.Config{
		Protocols: []*lws.Protocol{on, off},
		Limits:    lws.Limits{PingInterval: 100 * time.Millisecond, PongTimeout: time.Hour},
	})
	quiet := dialWS(t, svc, "off")
	pinged := dialWS(t, svc, "on")
	// Once the other connection has been pinged several times, the quiet
	// one, established first, has been idle longer than the interval.
	for i := 0; i < 3; i++ {
		if f, err := pinged.readFrame(t); err != nil || f.op != 0x9 {
			t.Fatalf("keepalive on, ping %d: got %v %v, want a PING", i, f, err)
		}
		pinged.Write(frame(0x8A, key1, nil))
	}
	quiet.Write(frame(0x81, key1, []byte("x")))
	f, err := quiet.readFrame(t)
	if err != nil || f.op != 0x1 || !bytes.Equal(f.payload, []byte("x")) {
		t.Fatalf("keepalive off: first frame %v %v, want the echo and no PING", f, err)
	}
}

// TestWriteStallHTTP: a client that requests a large file and never reads
// it is dropped after WriteStallTimeout; what it can still read is an
// unfinished response, then the end of the connection.
func TestWriteStallHTTP(t *testing.T) {
	const size = 32 << 20
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "big.bin"), make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	svc := startService(t, lws.Config{DocumentRoot: root, Limits: lws.Limits{WriteStallTimeout: 300 * time.Millisecond}})
	c, err := net.DialTimeout("tcp", svc.Addr().String(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(16 << 10)
	t0 := time.Now()
	c.Write([]byte("GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n"))
	// The start of the response shows the server is sending; then the
	// client stops reading.
	head := make([]byte, 12)
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.ReadFull(c, head); err != nil || string(head) != "HTTP/1.1 200" {
		t.Fatalf("response starts %q, %v", head, err)
	}
	waitCond(t, "the stalled download dropped", func() bool { return svc.Connections() == 0 })
	dropped := time.Since(t0)
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	n, err := io.Copy(io.Discard, c)
	n += int64(len(head))
	if err != nil && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("reading what was sent: %v", err)
	}
	if n >= size {
		t.Fatalf("read %d bytes: the whole file arrived, the download was not cut", n)
	}
	t.Logf("dropped after %v; %d of %d bytes had been sent", dropped.Round(time.Millisecond), n, size)
}
