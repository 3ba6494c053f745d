package lws_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/wsproto"
)

// wholeEcho echoes whole messages with their type.
func wholeEcho(name string) *lws.Protocol {
	return &lws.Protocol{
		Name:       name,
		Reassemble: true,
		OnReceive: func(c *lws.Conn, msg []byte) {
			mode := lws.WriteText
			if c.IsBinary() {
				mode = lws.WriteBinary
			}
			if err := c.Write(msg, mode); err != nil {
				c.Close(wsproto.CloseInternalError, err.Error())
			}
		},
	}
}

func wsURL(svc *lws.Service, path string) string {
	return fmt.Sprintf("ws://127.0.0.1:%d%s", svc.Port(), path)
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustDial(t testing.TB, url string, opts *lws.DialOptions) *lws.ClientConn {
	t.Helper()
	cc, err := lws.Dial(testCtx(t), url, opts)
	if err != nil {
		t.Fatalf("Dial %s: %v", url, err)
	}
	t.Cleanup(func() { cc.Close(wsproto.CloseNormal, "") })
	return cc
}

// TestDialEcho sends text and binary messages of the sizes around the
// frame-length encodings through the shared Dial service and reads each
// back whole.
func TestDialEcho(t *testing.T) {
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{wholeEcho("echo")}})
	cc := mustDial(t, wsURL(svc, "/"), &lws.DialOptions{Protocols: []string{"other", "echo"}})
	if cc.Subprotocol() != "echo" {
		t.Fatalf("subprotocol %q, want echo", cc.Subprotocol())
	}
	ctx := testCtx(t)
	for _, size := range []int{0, 1, 125, 126, 127, 65535, 65536, 4 << 20} {
		for _, op := range []lws.WriteMode{lws.WriteText, lws.WriteBinary} {
			msg := bytes.Repeat([]byte{'a' + byte(size%26)}, size)
			if op == lws.WriteBinary {
				for i := range msg {
					msg[i] = byte(i * 7)
				}
			}
			if err := cc.WriteMessage(ctx, op, msg); err != nil {
				t.Fatalf("write %d bytes: %v", size, err)
			}
			gotOp, got, err := cc.ReadMessage(ctx)
			if err != nil {
				t.Fatalf("read %d bytes: %v", size, err)
			}
			if gotOp != op || !bytes.Equal(got, msg) {
				t.Fatalf("%v %d bytes came back as %v %d bytes (equal %v)", op, size, gotOp, len(got), bytes.Equal(got, msg))
			}
		}
	}
	if err := cc.Close(wsproto.CloseNormal, "done"); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, _, err := cc.ReadMessage(ctx); !errors.Is(err, lws.ErrClosed) {
		t.Fatalf("ReadMessage after Close: %v, want ErrClosed", err)
	}
	if err := cc.WriteMessage(ctx, lws.WriteText, []byte("x")); !errors.Is(err, lws.ErrClosed) {
		t.Fatalf("WriteMessage after Close: %v, want ErrClosed", err)
	}
}

// TestDialConcurrentWriters has several goroutines write at once on one
// connection while one goroutine reads: every message comes back whole,
// and each writer's messages in the order it wrote them.
func TestDialConcurrentWriters(t *testing.T) {
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{wholeEcho("echo")}})
	cc := mustDial(t, wsURL(svc, "/"), nil)
	const writers, each = 8, 200
	ctx := testCtx(t)
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				// sizes vary so that frames of different lengths interleave
				msg := fmt.Sprintf("%d %d %s", w, i, strings.Repeat("x", (i*37)%3000))
				if err := cc.WriteMessage(ctx, lws.WriteText, []byte(msg)); err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
			}
		}(w)
	}
	next := make([]int, writers)
	for n := 0; n < writers*each; n++ {
		_, msg, err := cc.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("after %d messages: %v", n, err)
		}
		parts := strings.SplitN(string(msg), " ", 3)
		if len(parts) != 3 {
			t.Fatalf("message %q is not whole", msg)
		}
		w, _ := strconv.Atoi(parts[0])
		i, _ := strconv.Atoi(parts[1])
		pad := parts[2]
		if w < 0 || w >= writers || i != next[w] || len(pad) != (i*37)%3000 {
			t.Fatalf("writer %d: got message %d (pad %d), want %d", w, i, len(pad), next[w])
		}
		next[w]++
	}
	wg.Wait()
}

// TestDialFromManyGoroutines dials from many goroutines at once (one
// shared service), each exchanging messages and closing.
func TestDialFromManyGoroutines(t *testing.T) {
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{wholeEcho("echo")}})
	ctx := testCtx(t)
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			cc, err := lws.Dial(ctx, wsURL(svc, "/"), nil)
			if err != nil {
				t.Errorf("goroutine %d: %v", g, err)
				return
			}
			defer cc.Close(wsproto.CloseNormal, "")
			for i := 0; i < 20; i++ {
				msg := []byte(fmt.Sprintf("g%d m%d", g, i))
				if err := cc.WriteMessage(ctx, lws.WriteBinary, msg); err != nil {
					t.Errorf("goroutine %d: write: %v", g, err)
					return
				}
				op, got, err := cc.ReadMessage(ctx)
				if err != nil || op != lws.WriteBinary || !bytes.Equal(got, msg) {
					t.Errorf("goroutine %d: read %v %q %v", g, op, got, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	waitCond(t, "every server connection closed", func() bool { return svc.Connections() == 0 })
}

// waitCond polls cond until it holds (generous timeout).
func waitCond(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestDialErrors checks the errors of dials that cannot succeed.
func TestDialErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{wholeEcho("echo")}})
	ctx := testCtx(t)

	if _, err := lws.Dial(ctx, fmt.Sprintf("ws://127.0.0.1:%d/", closedPort), nil); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("closed port: %v, want connection refused", err)
	}
	if _, err := lws.Dial(ctx, fmt.Sprintf("wss://127.0.0.1:%d/", closedPort), nil); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("wss to a closed port: %v, want connection refused", err)
	}
	for _, bad := range []string{"http://127.0.0.1/", "ws://", "ws://[::1/", "ws://h:99999/"} {
		if _, err := lws.Dial(ctx, bad, nil); err == nil {
			t.Errorf("URL %q accepted", bad)
		}
	}
	_, err = lws.Dial(ctx, wsURL(svc, "/"), &lws.DialOptions{Protocols: []string{"nonesuch"}})
	var he *lws.HandshakeError
	if !errors.As(err, &he) || he.Status != 400 {
		t.Errorf("unknown subprotocol: %v, want a HandshakeError with status 400", err)
	}
	if _, err := lws.Dial(ctx, wsURL(svc, "/"), &lws.DialOptions{Header: map[string][]string{"Sec-WebSocket-Key": {"x"}}}); err == nil {
		t.Errorf("Sec-WebSocket-Key in DialOptions.Header accepted")
	}
	if _, err := lws.Dial(ctx, wsURL(svc, "/"), &lws.DialOptions{Header: map[string][]string{"X-A": {"a\r\nb"}}}); err == nil {
		t.Errorf("CRLF in a header value accepted")
	}
}
