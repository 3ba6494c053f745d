package lws_test

import (
	"bufio"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/lws-go/lws"
)

// handshakeStatus sends a WebSocket handshake with the given Host and
// Origin (none when empty) and returns the response status.
func handshakeStatus(t *testing.T, svc *lws.Service, host, origin string) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", svc.Addr().String(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := "GET / HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n"
	if origin != "" {
		req += "Origin: " + origin + "\r\n"
	}
	c.Write([]byte(req + "\r\n"))
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the handshake response: %v", err)
	}
	return resp.StatusCode
}

// TestOriginDefault checks the default Origin check: non-browser clients
// (no Origin) and pages of the same host and port pass; cross-origin pages
// get 403.
func TestOriginDefault(t *testing.T) {
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{wholeEcho("echo")}})
	for _, tc := range []struct {
		host, origin string
		status       int
	}{
		{"localhost", "", 101},
		{"localhost", "http://localhost", 101},
		{"localhost", "http://LocalHost", 101},
		{"127.0.0.1:7681", "http://127.0.0.1:7681", 101},
		{"127.0.0.1", "http://127.0.0.1", 101},    // libwebsockets' C client
		{"127.0.0.1:80", "http://127.0.0.1", 101}, // default port
		{"example.com", "https://example.com", 101},
		{"[::1]:7681", "http://[::1]:7681", 101},
		{"127.0.0.1:7681", "http://127.0.0.1:8080", 403},
		{"127.0.0.1:7681", "http://127.0.0.1", 403},
		{"localhost", "http://evil.example", 403},
		{"localhost", "http://localhost.evil.example", 403},
		{"localhost", "null", 403},
		{"localhost", "file://", 403},
		{"localhost", "chrome-extension://localhost", 403},
		{"localhost", "http://user@localhost", 403},
		{"localhost", "http://localhost/path", 403},
		{"localhost", "localhost", 403},
		{"localhost", "HTTP://localhost/", 101},
		{"localhost:80", "ws://localhost", 101},
		{"[::1]", "http://[::1]", 101},
		{"localhost", "http://local%68ost", 403}, // browsers never escape
		{"localhost", "http://localhost?x", 403},
		{"localhost", "http://localhost#x", 403},
		{"localhost", "http://localhost:8x", 403},
		{"localhost", "http://[::1", 403},
		{"localhost", "http://[localhost]", 403},
	} {
		if got := handshakeStatus(t, svc, tc.host, tc.origin); got != tc.status {
			t.Errorf("Host %q Origin %q: status %d, want %d", tc.host, tc.origin, got, tc.status)
		}
	}
}

// TestOriginAllowList checks Config.AllowedOrigins adds origins to the
// default check, and "*" allows every origin.
func TestOriginAllowList(t *testing.T) {
	svc := startService(t, lws.Config{
		Protocols:      []*lws.Protocol{wholeEcho("echo")},
		AllowedOrigins: []string{"https://app.example.com"},
	})
	for _, tc := range []struct {
		origin string
		status int
	}{
		{"https://app.example.com", 101},
		{"https://APP.example.com", 101},
		{"http://localhost", 101},
		{"https://other.example.com", 403},
		{"http://app.example.com", 403},
	} {
		if got := handshakeStatus(t, svc, "localhost", tc.origin); got != tc.status {
			t.Errorf("Origin %q: status %d, want %d", tc.origin, got, tc.status)
		}
	}
	open := startService(t, lws.Config{Protocols: []*lws.Protocol{wholeEcho("echo")}, AllowedOrigins: []string{"*"}})
	if got := handshakeStatus(t, open, "localhost", "https://anywhere.example"); got != 101 {
		t.Errorf(`AllowedOrigins "*": status %d, want 101`, got)
	}
}

// TestOriginHook checks Config.CheckOrigin replaces the default check and
// sees the request.
func TestOriginHook(t *testing.T) {
	seenHost := make(chan string, 4)
	svc := startService(t, lws.Config{
		Protocols: []*lws.Protocol{wholeEcho("echo")},
		CheckOrigin: func(origin string, r *lws.HTTPRequest) bool {
			seenHost <- r.Host
			return origin == "https://partner.example"
		},
	})
	if got := handshakeStatus(t, svc, "localhost", "https://partner.example"); got != 101 {
		t.Errorf("origin the hook allows: status %d, want 101", got)
	}
	if h := <-seenHost; h != "localhost" {
		t.Errorf("hook saw Host %q, want localhost", h)
	}
	if got := handshakeStatus(t, svc, "localhost", ""); got != 403 {
		t.Errorf("no Origin, refused by the hook: status %d, want 403", got)
	}
	if got := handshakeStatus(t, svc, "localhost", "http://localhost"); got != 403 {
		t.Errorf("same origin, refused by the hook: status %d, want 403", got)
	}
}

// TestOriginHookRequestStable: what CheckOrigin is given stays as it was
// after the handshake, though the next connection's head is parsed into
// the same (pooled) buffer.
func TestOriginHookRequestStable(t *testing.T) {
	type seen struct{ origin, host, path, key string }
	got := make(chan seen, 3)
	svc := startService(t, lws.Config{
		Protocols: []*lws.Protocol{wholeEcho("echo")},
		CheckOrigin: func(origin string, r *lws.HTTPRequest) bool {
			got <- seen{origin, r.Host, r.Path, r.Header.Get("sec-websocket-key")}
			return true
		},
	})
	hosts := []string{"aaaa.example", "bbbb.example", "cccc.example"}
	var kept []seen
	for _, h := range hosts {
		if st := handshakeStatus(t, svc, h, "https://"+h); st != 101 {
			t.Fatalf("Host %s: status %d, want 101", h, st)
		}
		kept = append(kept, <-got)
	}
	for i, h := range hosts {
		if want := (seen{"https://" + h, h, "/", testKey}); kept[i] != want {
			t.Errorf("handshake %d seen as %+v after later ones, want %+v", i, kept[i], want)
		}
	}
}
