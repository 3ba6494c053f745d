//go:build unix

package lws_test

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/wsproto"
)

// dialPath opens a WebSocket connection to svc offering proto, with the
// given request path and, when rcvbuf > 0, a small socket receive buffer
// (for slow readers). Unlike dialWS it returns errors, so goroutines other
// than the test's may use it.
func dialPath(svc *lws.Service, proto, path string, rcvbuf int) (*rawConn, error) {
	d := net.Dialer{Timeout: 60 * time.Second}
	if rcvbuf > 0 {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
			})
			if err != nil {
				return err
			}
			return serr
		}
	}
	c, err := d.Dial("tcp", svc.Addr().String())
	if err != nil {
		return nil, err
	}
	req := "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: " + proto + "\r\n\r\n"
	if _, err := c.Write([]byte(req)); err != nil {
		c.Close()
		return nil, err
	}
	rc := &rawConn{Conn: c, r: bufio.NewReaderSize(c, 64<<10)}
	// Generous: under -race on a loaded machine a loop busy with a stress
	// test's broadcasts may take seconds to get to a new handshake.
	c.SetReadDeadline(time.Now().Add(60 * time.Second))
	resp, err := http.ReadResponse(rc.r, nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	if resp.StatusCode != 101 {
		c.Close()
		return nil, fmt.Errorf("handshake: status %d", resp.StatusCode)
	}
	c.SetReadDeadline(time.Time{})
	return rc, nil
}

// nextFrame reads one unmasked server frame without allocating: payload
// is valid until the next call. A read deadline of timeout is set first.
func (c *rawConn) nextFrame(timeout time.Duration) (op byte, fin bool, payload []byte, err error) {
	if c.r.Buffered() < 14 {
		// Only when a read may be needed: setting a deadline per frame
		// would cost more than the frame.
		c.SetReadDeadline(time.Now().Add(timeout))
	}
	b0, err := c.r.ReadByte()
	if err != nil {
		return 0, false, nil, err
	}
	b1, err := c.r.ReadByte()
	if err != nil {
		return 0, false, nil, err
	}
	if b1&0x80 != 0 {
		return 0, false, nil, errors.New("server sent a masked frame")
	}
	n := int(b1 & 0x7f)
	switch n {
	case 126:
		h, err := c.r.Peek(2)
		if err != nil {
			return 0, false, nil, err
		}
		n = int(binary.BigEndian.Uint16(h))
		c.r.Discard(2)
	case 127:
		h, err := c.r.Peek(8)
		if err != nil {
			return 0, false, nil, err
		}
		n = int(binary.BigEndian.Uint64(h))
		c.r.Discard(8)
	}
	if n > c.r.Size() {
		return 0, false, nil, fmt.Errorf("frame of %d bytes is larger than the test's buffer", n)
	}
	payload, err = c.r.Peek(n)
	if err != nil {
		return 0, false, nil, err
	}
	c.r.Discard(n)
	return b0 & 0x0f, b0&0x80 != 0, payload, nil
}

// sendTracker records a protocol's server-side connections.
type sendTracker struct {
	mu     sync.Mutex
	byPath map[string]*lws.Conn
	open   map[*lws.Conn]bool
	closed []*lws.Conn
	cond   *sync.Cond
}

func newSendTracker() *sendTracker {
	t := &sendTracker{byPath: map[string]*lws.Conn{}, open: map[*lws.Conn]bool{}}
	t.cond = sync.NewCond(&t.mu)
	return t
}

func (tr *sendTracker) protocol(name string) *lws.Protocol {
	return &lws.Protocol{
		Name: name,
		OnEstablished: func(c *lws.Conn) {
			tr.mu.Lock()
			tr.byPath[c.RequestPath()] = c
			tr.open[c] = true
			tr.cond.Broadcast()
			tr.mu.Unlock()
		},
		OnClosed: func(c *lws.Conn, _ wsproto.CloseCode, _ string) {
			tr.mu.Lock()
			delete(tr.open, c)
			tr.closed = append(tr.closed, c)
			tr.cond.Broadcast()
			tr.mu.Unlock()
		},
	}
}

// wait blocks until cond (called with tr.mu held) holds or 30s pass.
func (tr *sendTracker) wait(t testing.TB, what string, cond func() bool) {
	t.Helper()
	timer := time.AfterFunc(30*time.Second, func() {
		tr.mu.Lock()
		tr.cond.Broadcast()
		tr.mu.Unlock()
	})
	defer timer.Stop()
	deadline := time.Now().Add(30 * time.Second)
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		tr.cond.Wait()
	}
}

func (tr *sendTracker) get(t testing.TB, path string) *lws.Conn {
	var c *lws.Conn
	tr.wait(t, "connection "+path, func() bool { c = tr.byPath[path]; return c != nil })
	return c
}

// TestSendFromGoroutines: four goroutines Send numbered messages to one
// connection while a fifth posts functions to its loop; every message
// arrives whole, once, in each sender's order.
func TestSendFromGoroutines(t *testing.T) {
	tr := newSendTracker()
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{tr.protocol("p")}})
	rc, err := dialPath(svc, "p", "/one", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	c := tr.get(t, "/one")

	const senders, each = 4, 2000
	var wg sync.WaitGroup
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			msg := make([]byte, 5+s*300) // sizes differ per sender
			for i := 0; i < each; i++ {
				msg[0] = byte(s)
				binary.BigEndian.PutUint32(msg[1:], uint32(i))
				if err := c.Send(msg, lws.WriteBinary); err != nil {
					t.Errorf("sender %d message %d: %v", s, i, err)
					return
				}
			}
		}(s)
	}
	posted := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 100; i++ {
			if err := c.Post(func() { posted++ }); err != nil {
				t.Errorf("Post: %v", err)
			}
		}
	}()
	next := make([]int, senders)
	for got := 0; got < senders*each; got++ {
		op, fin, p, err := rc.nextFrame(30 * time.Second)
		if err != nil {
			t.Fatalf("after %d messages: %v", got, err)
		}
		if op != 2 || !fin || len(p) < 5 {
			t.Fatalf("frame op %d fin %v len %d, want whole binary messages", op, fin, len(p))
		}
		s, i := int(p[0]), int(binary.BigEndian.Uint32(p[1:]))
		if s >= senders || len(p) != 5+s*300 {
			t.Fatalf("message from sender %d has %d bytes", s, len(p))
		}
		if i != next[s] {
			t.Fatalf("sender %d: got message %d, want %d", s, i, next[s])
		}
		next[s]++
	}
	wg.Wait()
	done := make(chan int)
	c.Post(func() { done <- posted })
	if n := <-done; n != 100 {
		t.Errorf("%d posted functions ran, want 100", n)
	}
}

// TestSendAfterClose: a Conn kept after its connection closed refuses
// Send and Post with ErrClosed; nothing panics.
func TestSendAfterClose(t *testing.T) {
	tr := newSendTracker()
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{tr.protocol("p")}})
	rc, err := dialPath(svc, "p", "/gone", 0)
	if err != nil {
		t.Fatal(err)
	}
	c := tr.get(t, "/gone")
	rc.Close()
	tr.wait(t, "close", func() bool { return len(tr.closed) == 1 })
	if err := c.Send([]byte("late"), lws.WriteText); !errors.Is(err, lws.ErrClosed) {
		t.Errorf("Send after close: %v, want ErrClosed", err)
	}
	if err := c.Post(func() { t.Error("posted func ran for a closed connection") }); !errors.Is(err, lws.ErrClosed) {
		t.Errorf("Post after close: %v, want ErrClosed", err)
	}
	if err := svc.Broadcast(c.Protocol(), []byte("x"), lws.WriteText); err != nil {
		t.Errorf("Broadcast: %v", err)
	}
	if err := c.Send([]byte("x"), lws.WritePing); err == nil {
		t.Errorf("Send with WritePing: no error")
	}
}

// TestSendWaitsForFragmentedMessage: a message sent from another goroutine
// while the loop is in the middle of a fragmented message (Write with
// WriteNoFin) goes out after its last frame; control frames may come in
// between; fragment order mistakes are refused.
func TestSendWaitsForFragmentedMessage(t *testing.T) {
	tr := newSendTracker()
	p := tr.protocol("p")
	var errs []error
	var step int
	p.OnWriteable = func(c *lws.Conn) {
		switch step {
		case 0:
			errs = append(errs, c.Write([]byte("con"), lws.WriteContinuation)) // refused: nothing started
			errs = append(errs, c.Write([]byte("frag1-"), lws.WriteText|lws.WriteNoFin))
			errs = append(errs, c.Write([]byte("new"), lws.WriteText)) // refused: unfinished
			errs = append(errs, c.Write([]byte("ping"), lws.WritePing))
			// Queued now, while the message is unfinished.
			errs = append(errs, c.Send([]byte("queued"), lws.WriteText))
		case 1:
			errs = append(errs, c.Write([]byte("frag2-"), lws.WriteContinuation|lws.WriteNoFin))
		case 2:
			errs = append(errs, c.Write([]byte("frag3"), lws.WriteContinuation))
		}
		step++
		if step < 3 {
			c.RequestWriteable()
		}
	}
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{p}})
	rc, err := dialPath(svc, "p", "/f", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	c := tr.get(t, "/f")
	c.Post(c.RequestWriteable)

	want := []struct {
		op   byte
		fin  bool
		data string
	}{{1, false, "frag1-"}, {9, true, "ping"}, {0, false, "frag2-"}, {0, true, "frag3"}, {1, true, "queued"}}
	for i, w := range want {
		op, fin, p, err := rc.nextFrame(10 * time.Second)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if op != w.op || fin != w.fin || string(p) != w.data {
			t.Fatalf("frame %d: op %d fin %v %q, want op %d fin %v %q", i, op, fin, p, w.op, w.fin, w.data)
		}
	}
	done := make(chan []error)
	c.Post(func() { done <- errs })
	got := <-done
	if len(got) != 7 || got[0] == nil || got[1] != nil || got[2] == nil || got[3] != nil || got[4] != nil || got[5] != nil || got[6] != nil {
		t.Errorf("write results %v: want only the stray continuation and the new message inside the fragmented one refused", got)
	}
}

// TestSendThenCloseDeliversQueued: messages sent from another goroutine
// before a posted Close go out before the close frame.
func TestSendThenCloseDeliversQueued(t *testing.T) {
	conns := make(chan *lws.Conn, 1)
	p := &lws.Protocol{Name: "p", OnEstablished: func(c *lws.Conn) { conns <- c }}
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{p}})
	rc := dialWS(t, svc, "p")
	c := <-conns
	for _, m := range []string{"a", "b", "c"} {
		if err := c.Send([]byte(m), lws.WriteText); err != nil {
			t.Fatal(err)
		}
	}
	c.Post(func() { c.Close(1000, "done") })
	var got []string
	for {
		f, err := rc.readFrame(t)
		if err != nil {
			t.Fatalf("read: %v (got %q)", err, got)
		}
		if f.op == 8 {
			break
		}
		got = append(got, string(f.payload))
	}
	if strings.Join(got, ",") != "a,b,c" {
		t.Fatalf("before the close frame got %q, want a, b, c", got)
	}
}
