//go:build unix

package lws_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/lws-go/lws"
)

// What user code is given of a request stays as it was: the strings of
// the request head are parsed into a buffer the next request reuses
// (httpd.Parser.BorrowRequest), so what reaches user code is copied first.
// The CheckOrigin case is in origin_test.go.

// TestHTTPRequestStringsStable: the strings of a request handed to
// Config.HTTP stay as they were after the response, though the next request
// on the kept-alive connection is parsed into the same buffer.
func TestHTTPRequestStringsStable(t *testing.T) {
	type seen struct{ method, path, query, probe string }
	got := make(chan seen, 3)
	svc := startService(t, lws.Config{HTTP: func(r *lws.HTTPRequest) {
		got <- seen{r.Method, r.Path, r.RawQuery, r.Header.Get("x-probe")}
		r.Respond(200, "text/plain", []byte("ok"))
	}})
	c, err := net.DialTimeout("tcp", svc.Addr().String(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(c)
	var kept []seen
	for _, s := range []string{"aaaa", "bbbb", "cccc"} {
		if _, err := io.WriteString(c, "GET /"+s+"?q="+s+" HTTP/1.1\r\nHost: localhost\r\nX-Probe: "+s+"\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		kept = append(kept, <-got)
	}
	for i, s := range []string{"aaaa", "bbbb", "cccc"} {
		if want := (seen{"GET", "/" + s, "q=" + s, s}); kept[i] != want {
			t.Errorf("request %d seen as %+v after later requests, want %+v", i, kept[i], want)
		}
	}
}

// TestRequestPathStable: a connection's RequestPath and RequestQuery stay
// as its handshake had them, though later handshakes are parsed into the
// same (pooled) buffer.
func TestRequestPathStable(t *testing.T) {
	type seen struct{ path, query string }
	got := make(chan seen, 3)
	p := wholeEcho("echo")
	p.OnEstablished = func(c *lws.Conn) { got <- seen{c.RequestPath(), c.RequestQuery()} }
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{p}})
	names := []string{"aaaa", "bbbb", "cccc"}
	var kept []seen
	for _, s := range names {
		c, err := dialPath(svc, "echo", "/"+s+"?q="+s, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		kept = append(kept, <-got)
	}
	for i, s := range names {
		if want := (seen{"/" + s, "q=" + s}); kept[i] != want {
			t.Errorf("connection %d has %+v after later handshakes, want %+v", i, kept[i], want)
		}
	}
}
