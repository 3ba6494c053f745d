package lws_test

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lws-go/lws"
)

// waitGoroutines waits until at most n goroutines run and returns the
// last count seen.
func waitGoroutines(n int, timeout time.Duration) int {
	deadline := time.Now().Add(timeout)
	for {
		g := runtime.NumGoroutine()
		if g <= n || time.Now().After(deadline) {
			return g
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// countingWriter is middleware's usual ResponseWriter wrapper; Upgrade
// must reach the hijacker through its Unwrap.
type countingWriter struct {
	http.ResponseWriter
	status int
}

func (w *countingWriter) WriteHeader(code int)        { w.status = code; w.ResponseWriter.WriteHeader(code) }
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// echoOnce sends msg as one TEXT frame and reads the echo, which may come
// back in several frames.
func echoOnce(t *testing.T, c *rawConn, msg string) {
	t.Helper()
	if _, err := c.Write(frame(0x81, key1, []byte(msg))); err != nil {
		t.Fatalf("write: %v", err)
	}
	var got []byte
	for {
		f, err := c.readFrame(t)
		if err != nil {
			t.Fatalf("echo of %d bytes: after %d bytes: %v", len(msg), len(got), err)
		}
		got = append(got, f.payload...)
		if f.fin {
			break
		}
	}
	if string(got) != msg {
		t.Fatalf("echo of %d bytes: got %d bytes, different", len(msg), len(got))
	}
}

// A standard http.Server with a router and middleware upgrades; the
// connections are then served by the service's loop and no goroutine per
// connection remains.
func TestNetHTTPUpgradeServedByLoop(t *testing.T) {
	fdBackendOnly(t, "no goroutine per upgraded connection")
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{echoProtocol("echo")}})
	var requests atomic.Int64
	mux := http.NewServeMux()
	mux.Handle("/ws", svc.Handler())
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hello") })
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		mux.ServeHTTP(&countingWriter{ResponseWriter: w}, r)
	}))
	defer ts.Close()
	addr := ts.Listener.Addr().String()

	resp, err := http.Get(ts.URL + "/hello")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()

	dial := func() net.Conn {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// A frame sent in the same write as the handshake is read by net/http
	// before the hijack: it must be delivered first.
	first := handshakeWS(t, dial(), "/ws", "echo", frame(0x81, key1, []byte("early")))
	f, err := first.readFrame(t)
	if err != nil || string(f.payload) != "early" {
		t.Fatalf("early frame: got %v, %v", f, err)
	}
	echoOnce(t, first, "after early")
	before := waitGoroutines(0, 0)

	const n = 100
	conns := make([]*rawConn, n)
	for i := range conns {
		conns[i] = handshakeWS(t, dial(), "/ws", "echo", nil)
	}
	for i, c := range conns {
		echoOnce(t, c, fmt.Sprintf("message %d", i))
	}
	if got := svc.Connections(); got != n+1 {
		t.Fatalf("service holds %d connections, want %d", got, n+1)
	}
	after := waitGoroutines(before+2, 10*time.Second)
	t.Logf("goroutines: %d with 1 upgraded connection, %d with %d more open", before, after, n)
	if after > before+2 {
		t.Fatalf("%d goroutines with %d more connections open (before: %d): net/http kept goroutines per connection", after, n, before)
	}
	// Still served after the count: by the loop, not by net/http.
	for i, c := range conns {
		echoOnce(t, c, fmt.Sprintf("again %d", i))
	}
	if got := requests.Load(); got != n+2 {
		t.Errorf("middleware saw %d requests, want %d", got, n+2)
	}
	first.Write(frame(0x88, key1, []byte{0x03, 0xe8}))
	if code, _ := first.expectClose(t); code != 1000 {
		t.Errorf("close echoed with %d, want 1000", code)
	}
}

// Upgrade validates exactly like the native server: the same request gets
// the same status from both.
func TestNetHTTPUpgradeRefusesLikeNative(t *testing.T) {
	svc := startService(t, lws.Config{
		Protocols:   []*lws.Protocol{echoProtocol("echo")},
		CheckOrigin: func(origin string, r *lws.HTTPRequest) bool { return origin != "http://evil.example" },
	})
	ts := httptest.NewServer(svc.Handler())
	defer ts.Close()

	good := "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n"
	cases := []struct {
		name, req string
		status    int
		header    string // a response header line both must send
	}{
		{"POST", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n" + good, 400, ""},
		{"HTTP/1.0", "GET / HTTP/1.0\r\nHost: x\r\n" + good, 400, ""},
		{"no Connection upgrade", "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nSec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n", 400, ""},
		{"version 8", "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 8\r\n", 426, "Sec-Websocket-Version: 13"},
		{"bad key", "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n", 400, ""},
		{"unknown protocol", "GET / HTTP/1.1\r\nHost: x\r\n" + good + "Sec-WebSocket-Protocol: nope\r\n", 400, ""},
		{"origin refused", "GET / HTTP/1.1\r\nHost: x\r\n" + good + "Origin: http://evil.example\r\n", 403, ""},
	}
	ask := func(addr, req string) *http.Response {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write([]byte(req + "\r\n")); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("reading response from %s: %v", addr, err)
		}
		resp.Body.Close()
		return resp
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			native := ask(svc.Addr().String(), tc.req)
			viaHTTP := ask(ts.Listener.Addr().String(), tc.req)
			if native.StatusCode != tc.status || viaHTTP.StatusCode != tc.status {
				t.Fatalf("status: native %d, net/http %d; want %d", native.StatusCode, viaHTTP.StatusCode, tc.status)
			}
			if tc.header != "" {
				name, value, _ := strings.Cut(tc.header, ": ")
				if native.Header.Get(name) != value || viaHTTP.Header.Get(name) != value {
					t.Fatalf("%s: native %q, net/http %q", name, native.Header.Get(name), viaHTTP.Header.Get(name))
				}
			}
		})
	}
	// A plain request to the WebSocket endpoint: 426 naming the upgrade.
	resp := ask(ts.Listener.Addr().String(), "GET / HTTP/1.1\r\nHost: x\r\n")
	if resp.StatusCode != 426 || resp.Header.Get("Upgrade") != "websocket" {
		t.Fatalf("plain GET: %d, Upgrade %q; want 426 websocket", resp.StatusCode, resp.Header.Get("Upgrade"))
	}
}

// TLS served by net/http: the connection is bridged to the loop; it
// echoes, closes cleanly, and the bridge goroutines end with it.
func TestNetHTTPUpgradeTLS(t *testing.T) {
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{echoProtocol("echo")}})
	ts := httptest.NewTLSServer(svc.Handler())
	defer ts.Close()
	cfg := ts.Client().Transport.(*http.Transport).TLSClientConfig

	dialTLS := func() *tls.Conn {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", ts.Listener.Addr().String(), cfg)
		if err != nil {
			t.Fatalf("tls dial: %v", err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	warm := handshakeWS(t, dialTLS(), "/", "echo", nil)
	echoOnce(t, warm, "warm")
	before := waitGoroutines(0, 0)

	c := handshakeWS(t, dialTLS(), "/", "echo", frame(0x81, key1, []byte("early over tls")))
	if f, err := c.readFrame(t); err != nil || string(f.payload) != "early over tls" {
		t.Fatalf("early frame: got %v, %v", f, err)
	}
	big := strings.Repeat("0123456789", 20000) // more than one TLS record and copy buffer
	echoOnce(t, c, big)
	c.Write(frame(0x88, key1, []byte{0x03, 0xe8, 'b', 'y', 'e'}))
	if code, reason := c.expectClose(t); code != 1000 || reason != "bye" {
		t.Fatalf("close echoed with %d %q, want 1000 \"bye\"", code, reason)
	}
	c.Close()
	if g := waitGoroutines(before, 10*time.Second); g > before {
		t.Fatalf("%d goroutines after the bridged connection closed, %d before it", g, before)
	}
	// The server's side ends when its lingering close sees our close.
	waitCond(t, "the bridged connection leaves the service (only the warm one stays)", func() bool { return svc.Connections() == 1 })
}

// The 101 of a net/http upgrade is the native server's, extensions
// included: the same offer gets the same permessage-deflate answer.
func TestNetHTTPUpgradeNegotiatesLikeNative(t *testing.T) {
	p := echoProtocol("echo")
	p.Compression = &lws.Compression{}
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{p}})
	ts := httptest.NewServer(svc.Handler())
	defer ts.Close()

	req := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + testKey +
		"\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: echo\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
	upgrade := func(addr string) http.Header {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("reading the response from %s: %v", addr, err)
		}
		if resp.StatusCode != 101 {
			t.Fatalf("%s answered %d", addr, resp.StatusCode)
		}
		return resp.Header
	}
	native := upgrade(svc.Addr().String())
	viaHTTP := upgrade(ts.Listener.Addr().String())
	for _, h := range []string{"Sec-Websocket-Accept", "Sec-Websocket-Protocol", "Sec-Websocket-Extensions"} {
		if native.Get(h) != viaHTTP.Get(h) || native.Get(h) == "" {
			t.Errorf("%s: native %q, net/http %q", h, native.Get(h), viaHTTP.Get(h))
		}
	}
	t.Logf("both answered Sec-WebSocket-Extensions: %s", viaHTTP.Get("Sec-Websocket-Extensions"))
}
