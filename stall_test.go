//go:build unix

package lws_test

// A peer that never reads is dropped after Limits.WriteStallTimeout in
// every state a connection can wait for it in: with output queued (the
// hostile suite's firehose), waiting for OnWriteable with nothing queued,
// pushing to a Dial client whose reader stopped, a Dial client whose
// server stopped reading, and an HTTP response (TestWriteStallHTTP for a
// streamed file). A ClientConn closed while its reading is paused
// completes the closing handshake at once.

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/wsproto"
)

const testStallTimeout = 300 * time.Millisecond

// A server that writes small messages only from OnWriteable, and only
// when nothing is queued, ends up waiting for an OnWriteable with an
// empty queue once the socket stops being writable: the socket took every
// byte, but the peer reads nothing. It is dropped with 1008 all the same.
func TestWriteStallAwaitingWriteable(t *testing.T) {
	var leftQueued atomic.Int64 // Buffered after the last write
	var writes atomic.Int64
	trickle := &lws.Protocol{
		Name:          "trickle",
		PingInterval:  -1,
		OnEstablished: func(c *lws.Conn) { c.RequestWriteable() },
		OnWriteable: func(c *lws.Conn) {
			if c.Buffered() == 0 {
				if err := c.Write(make([]byte, 1000), lws.WriteBinary); err != nil {
					t.Errorf("server write: %v", err)
					return
				}
				writes.Add(1)
				leftQueued.Store(int64(c.Buffered()))
			}
			c.RequestWriteable()
		},
	}
	tr := newHostileTracker()
	svc := startService(t, lws.Config{
		Protocols: []*lws.Protocol{tr.track(trickle)},
		Limits:    lws.Limits{WriteStallTimeout: testStallTimeout},
	})
	t0 := time.Now()
	rc := dialWS(t, svc, "trickle")
	rc.Conn.(*net.TCPConn).SetReadBuffer(16 << 10)
	closed := tr.waitClosed(t, localPort(rc))
	if closed.code != wsproto.ClosePolicyViolation || closed.reason != "write stalled" {
		t.Fatalf("server closed with %d %q, want 1008 \"write stalled\"", closed.code, closed.reason)
	}
	if d := closed.at.Sub(t0); d < testStallTimeout {
		t.Errorf("dropped after %v, before the write-stall limit %v", d, testStallTimeout)
	}
	t.Logf("dropped after %v and %d writes; %d bytes were queued after the last one",
		closed.at.Sub(t0).Round(time.Millisecond), writes.Load(), leftQueued.Load())
}

// pushProtocol writes sequence messages of size bytes from OnWriteable
// whenever nothing is queued, for ever.
func pushProtocol(size int) *lws.Protocol {
	return &lws.Protocol{
		Name:         "push",
		PingInterval: -1,
		OnEstablished: func(c *lws.Conn) {
			c.SetUser(0)
			c.RequestWriteable()
		},
		OnWriteable: func(c *lws.Conn) {
			i := c.User().(int)
			for ; c.Buffered() == 0; i++ {
				if c.Write(seqMessage(i, size), lws.WriteBinary) != nil {
					return
				}
			}
			c.SetUser(i)
			c.RequestWriteable()
		},
	}
}

// A server pushes to a Dial client whose user has stopped calling
// ReadMessage: the client's reading pauses once its inbox is full, the
// socket buffers fill, and the server drops the connection with 1008. The
// client learns of it in stream order: when its user reads again, every
// message that arrived, in order, then a CloseError for the end without a
// close frame.
func TestWriteStallDialReaderStopped(t *testing.T) {
	const size = 16 << 10
	tr := newHostileTracker()
	svc := startService(t, lws.Config{
		Protocols: []*lws.Protocol{tr.track(pushProtocol(size))},
		Limits:    lws.Limits{WriteStallTimeout: testStallTimeout},
	})
	ctx := testCtx(t)
	cc := mustDial(t, wsURL(svc, "/"), &lws.DialOptions{Protocols: []string{"push"}})
	if _, msg, err := cc.ReadMessage(ctx); err != nil || checkSeqMessage(msg, 0, size) != nil {
		t.Fatalf("first message: %v", err)
	}
	// The user stops reading: the inbox fills and reading pauses.
	waitCond(t, "the client's reading paused", func() bool { return lws.ReadingPaused(cc) })
	var port uint16
	waitCond(t, "the server connection", func() bool {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		for p := range tr.open {
			port = p
		}
		return port != 0
	})
	closed := tr.waitClosed(t, port)
	if closed.code != wsproto.ClosePolicyViolation || closed.reason != "write stalled" {
		t.Fatalf("server closed with %d %q, want 1008 \"write stalled\"", closed.code, closed.reason)
	}
	// Reading again: the messages, in order, then the end.
	n := 1
	var err error
	for {
		var msg []byte
		if _, msg, err = cc.ReadMessage(ctx); err != nil {
			break
		}
		if cerr := checkSeqMessage(msg, n, size); cerr != nil {
			t.Fatal(cerr)
		}
		n++
	}
	var ce *lws.CloseError
	if !errors.As(err, &ce) || ce.Code != wsproto.CloseAbnormal || ce.Origin != lws.EndedAbnormally {
		t.Fatalf("after %d messages ReadMessage returned %v, want a CloseError 1006 EndedAbnormally", n, err)
	}
	t.Logf("the server dropped the stalled client; the client then read %d messages and %v", n, err)
}

// A Dial client whose server reads nothing: WriteMessage waits while the
// output is full, then the write-stall limit drops the connection, and
// WriteMessage and ReadMessage report 1008 as this side's failure.
func TestWriteStallDialServerStopsReading(t *testing.T) {
	done := make(chan struct{})
	addr := rawServer(t, func(c net.Conn, r *bufio.Reader, req *http.Request) {
		c.(*net.TCPConn).SetReadBuffer(16 << 10)
		c.Write([]byte(head101 + "Sec-WebSocket-Accept: " + accept(req) + "\r\n\r\n"))
		<-done // reads nothing
	})
	defer close(done)
	svc, err := lws.New(lws.Config{Limits: lws.Limits{WriteStallTimeout: testStallTimeout}})
	if err != nil {
		t.Fatal(err)
	}
	runUntilCleanup(t, svc)
	ctx := testCtx(t)
	cc := mustDial(t, "ws://"+addr+"/", &lws.DialOptions{Service: svc})
	msg := make([]byte, 64<<10)
	writes := 0
	for ; ; writes++ {
		if err = cc.WriteMessage(ctx, lws.WriteBinary, msg); err != nil {
			break
		}
	}
	var ce *lws.CloseError
	if !errors.As(err, &ce) || ce.Code != wsproto.ClosePolicyViolation || ce.Reason != "write stalled" || ce.Origin != lws.FailedLocally {
		t.Fatalf("after %d writes WriteMessage returned %v, want a CloseError 1008 \"write stalled\" FailedLocally", writes, err)
	}
	if _, _, rerr := cc.ReadMessage(ctx); rerr != err {
		t.Errorf("ReadMessage returned %v, want the same %v", rerr, err)
	}
	if cerr := cc.Close(wsproto.CloseNormal, ""); cerr != err {
		t.Errorf("Close returned %v, want the same %v", cerr, err)
	}
	t.Logf("%d writes of %d bytes, then: %v", writes, len(msg), err)
}

// An HTTP response written from the HTTP callback, too large for the
// socket buffers, to a client that reads none of it: dropped after the
// write-stall limit, kept alive or not.
func TestWriteStallHTTPRespond(t *testing.T) {
	const size = 32 << 20
	body := make([]byte, size)
	for _, keepAlive := range []bool{true, false} {
		name := "keep-alive"
		if !keepAlive {
			name = "close"
		}
		t.Run(name, func(t *testing.T) {
			svc := startService(t, lws.Config{
				HTTP: func(r *lws.HTTPRequest) { r.Respond(200, "application/octet-stream", body) },
				// The limit under test; the close timeout is long, so a
				// drop before it is the write-stall watch's.
				Limits: lws.Limits{WriteStallTimeout: testStallTimeout, CloseTimeout: time.Hour},
			})
			c, err := net.DialTimeout("tcp", svc.Addr().String(), 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.(*net.TCPConn).SetReadBuffer(16 << 10)
			req := "GET / HTTP/1.1\r\nHost: localhost\r\n"
			if !keepAlive {
				req += "Connection: close\r\n"
			}
			c.Write([]byte(req + "\r\n"))
			head := make([]byte, 12)
			c.SetReadDeadline(time.Now().Add(20 * time.Second))
			if _, err := io.ReadFull(c, head); err != nil || string(head) != "HTTP/1.1 200" {
				t.Fatalf("response starts %q, %v", head, err)
			}
			waitCond(t, "the stalled response dropped", func() bool { return svc.Connections() == 0 })
			n, err := io.Copy(io.Discard, c)
			if err != nil && !strings.Contains(err.Error(), "reset") {
				t.Fatalf("reading what was sent: %v", err)
			}
			if n+int64(len(head)) >= size {
				t.Fatalf("the whole response arrived: it was not cut")
			}
		})
	}
}

// ClientConn.Close while the reading is paused (the user fell behind and
// the inbox is full, the server goes on pushing): the close frame goes
// out, the unread input is discarded until the server's close frame, and
// Close returns nil as soon as the server has answered, not after the
// close timeout with 1006.
func TestDialCloseWhilePaused(t *testing.T) {
	const size = 16 << 10
	tr := newHostileTracker()
	svc := startService(t, lws.Config{
		Protocols: []*lws.Protocol{tr.track(pushProtocol(size))},
	})
	// Close returns nil only when the server's answer was read: a close
	// that times out instead returns the 1006 CloseError.
	client, err := lws.New(lws.Config{Limits: lws.Limits{CloseTimeout: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	runUntilCleanup(t, client)
	ctx := testCtx(t)
	cc := mustDial(t, wsURL(svc, "/"), &lws.DialOptions{Protocols: []string{"push"}, Service: client})
	if _, msg, err := cc.ReadMessage(ctx); err != nil || checkSeqMessage(msg, 0, size) != nil {
		t.Fatalf("first message: %v", err)
	}
	// The server fills the client's inbox, so its reading pauses, and
	// both socket buffers: the server's queue stays non-empty.
	waitCond(t, "the client's reading paused", func() bool { return lws.ReadingPaused(cc) })
	var sc *lws.Conn
	waitCond(t, "the server connection", func() bool {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		for _, c := range tr.open {
			sc = c
		}
		return sc != nil
	})
	waitCond(t, "the server's output backed up", func() bool {
		b := make(chan int, 1)
		if svc.Post(func() { b <- sc.Buffered() }) != nil {
			return false
		}
		return <-b > 0
	})
	closed := make(chan error, 1)
	go func() { closed <- cc.Close(wsproto.CloseNormal, "bye") }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close: %v, want nil (the server answered)", err)
		}
	case <-ctx.Done():
		t.Fatal("Close did not return: the server's answer was not read")
	}
	cl := tr.waitClosed(t, sc.RemoteAddr().Port())
	if cl.code != wsproto.CloseNormal || cl.reason != "bye" {
		t.Errorf("server closed with %d %q, want 1000 \"bye\"", cl.code, cl.reason)
	}
	if _, _, err := cc.ReadMessage(ctx); !errors.Is(err, lws.ErrClosed) {
		t.Errorf("ReadMessage after Close: %v, want ErrClosed (unread messages discarded)", err)
	}
}

// steadyReader reads at most 64 KiB a time with a pause before each read:
// a client on a slow link that reads steadily.
type steadyReader struct{ r io.Reader }

func (s steadyReader) Read(p []byte) (int, error) {
	time.Sleep(5 * time.Millisecond) // the client's pace, not a wait for something
	return s.r.Read(p[:min(len(p), 64<<10)])
}

// A connection that ends after a large answer (an HTTP response with
// Connection: close, a WebSocket message followed by a close) delivers
// all of it to a client that reads steadily but slowly: CloseTimeout
// bounds a pause in the peer's reading while output drains, not the time
// the whole answer takes (here about 25 times CloseTimeout).
func TestSlowSteadyReaderGetsEverything(t *testing.T) {
	const size = 16 << 20
	body := make([]byte, size)
	for i := range body {
		body[i] = byte(i * 7)
	}
	limits := lws.Limits{CloseTimeout: 100 * time.Millisecond, WriteStallTimeout: time.Minute}
	t.Run("http close", func(t *testing.T) {
		svc := startService(t, lws.Config{
			HTTP:   func(r *lws.HTTPRequest) { r.Respond(200, "application/octet-stream", body) },
			Limits: limits,
		})
		c, err := net.DialTimeout("tcp", svc.Addr().String(), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.(*net.TCPConn).SetReadBuffer(64 << 10)
		c.Write([]byte("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
		c.SetReadDeadline(time.Now().Add(time.Minute))
		resp, err := http.ReadResponse(bufio.NewReader(steadyReader{c}), nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("%d of %d bytes, %v", len(got), size, err)
		}
	})
	t.Run("websocket close", func(t *testing.T) {
		p := &lws.Protocol{Name: "big", OnEstablished: func(c *lws.Conn) {
			if err := c.Write(body, lws.WriteBinary); err != nil {
				t.Errorf("Write: %v", err)
			}
			c.Close(lws.CloseNormal, "that was all")
		}}
		svc := startService(t, lws.Config{Protocols: []*lws.Protocol{p}, Limits: limits})
		rc := dialWS(t, svc, "big")
		rc.Conn.(*net.TCPConn).SetReadBuffer(64 << 10)
		rc.r = bufio.NewReader(steadyReader{rc.r}) // what came with the handshake's answer first
		f, err := rc.readFrame(t)
		if err != nil || f.op != 2 || !bytes.Equal(f.payload, body) {
			t.Fatalf("message: op %d, %d of %d bytes, %v", f.op, len(f.payload), size, err)
		}
		if f, err := rc.readFrame(t); err != nil || f.op != 8 {
			t.Fatalf("then: op %d, %v; want the close frame", f.op, err)
		}
	})
}
