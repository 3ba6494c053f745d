package lws_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/httpd"
)

// TestDialResponseAndAddrs: the handshake response (status, header
// fields, cookies) and both addresses of the connection, as the server
// saw them.
func TestDialResponseAndAddrs(t *testing.T) {
	seen := make(chan net.Addr, 1)
	addr := rawServer(t, func(c net.Conn, r *bufio.Reader, req *http.Request) {
		seen <- c.RemoteAddr()
		c.Write([]byte(head101 + "Sec-WebSocket-Accept: " + accept(req) + "\r\n" +
			"set-cookie: session=abc; Path=/\r\nX-Served-By: raw\r\nX-Served-By: twice\r\n\r\n"))
		r.ReadByte() // until the client goes
	})
	cc := mustDial(t, "ws://"+addr+"/", nil)
	resp := cc.Response()
	if resp == nil || resp.StatusCode != 101 || resp.Status != "101 Switching Protocols" || resp.ProtoMinor != 1 || resp.Body == nil {
		t.Fatalf("Response: %+v", resp)
	}
	if got := resp.Header.Values("X-Served-By"); strings.Join(got, ",") != "raw,twice" {
		t.Errorf("X-Served-By: %q", got)
	}
	if ck := resp.Cookies(); len(ck) != 1 || ck[0].Name != "session" || ck[0].Value != "abc" {
		t.Errorf("cookies: %v", ck)
	}
	if got := cc.RemoteAddr(); got == nil || got.String() != addr {
		t.Errorf("RemoteAddr %v, want %s", got, addr)
	}
	if got, want := cc.LocalAddr(), <-seen; got == nil || got.String() != want.String() {
		t.Errorf("LocalAddr %v, want %v (what the server saw)", got, want)
	}
}

// TestHandshakeErrorDetails: a refusal's status, header fields and the
// start of its body, however the body is delimited, bounded by
// MaxHandshakeErrorBody; through errors.As, also wrapped.
func TestHandshakeErrorDetails(t *testing.T) {
	long := strings.Repeat("x", 3000)
	cases := []struct {
		name     string
		response []string // written one by one
		keepOpen bool
		status   int
		body     string
	}{
		{"content-length", []string{"HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\nSet-Cookie: a=b\r\n\r\n", "go away\r\n"}, true, 403, "go away\r\n"},
		{"content-length-long", []string{"HTTP/1.1 403 Forbidden\r\nContent-Length: 3000\r\nSet-Cookie: a=b\r\n\r\n" + long}, true, 403, long[:lws.MaxHandshakeErrorBody]},
		{"chunked", []string{"HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\nSet-Cookie: a=b\r\n\r\n4\r\nlog ", "6;ext=1\r\nin fir\r\n", "3\r\nst\n\r\n0\r\n\r\n"}, true, 401, "log in first\n"},
		{"until-close", []string{"HTTP/1.0 500 Oops\r\nSet-Cookie: a=b\r\n\r\n", "broken"}, false, 500, "broken"},
		{"until-wait-ends", []string{"HTTP/1.1 503 Busy\r\nSet-Cookie: a=b\r\n\r\n", "later"}, true, 503, "later"},
		{"no-body", []string{"HTTP/1.1 302 Found\r\nLocation: /x\r\nSet-Cookie: a=b\r\nContent-Length: 0\r\n\r\n"}, true, 302, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := rawServer(t, func(c net.Conn, r *bufio.Reader, req *http.Request) {
				for _, part := range tc.response {
					c.Write([]byte(part))
				}
				if tc.keepOpen {
					r.ReadByte() // until the client goes
				}
			})
			_, err := lws.Dial(testCtx(t), "ws://"+addr+"/", nil)
			var he *lws.HandshakeError
			if !errors.As(fmt.Errorf("wrapped: %w", err), &he) {
				t.Fatalf("Dial: %v, want a *HandshakeError", err)
			}
			if he.Status != tc.status || string(he.Body) != tc.body || he.Header.Get("Set-Cookie") != "a=b" {
				t.Errorf("status %d, body %q, header %v; want %d, %q", he.Status, he.Body, he.Header, tc.status, tc.body)
			}
			if tc.body == "" && he.Body != nil {
				t.Errorf("Body %q, want nil", he.Body)
			}
		})
	}
}

// TestHandshakeErrorFromPeers: net/http's refusal (http.Error) and our own
// server's; a response that is not HTTP unwraps to the parser's error.
func TestHandshakeErrorFromPeers(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "tried", Value: "1"})
		http.Error(w, "members only", http.StatusForbidden)
	}))
	defer hs.Close()
	ctx := testCtx(t)
	_, err := lws.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/", nil)
	var he *lws.HandshakeError
	if !errors.As(err, &he) || he.Status != 403 || string(he.Body) != "members only\n" || he.Header.Get("Set-Cookie") != "tried=1" {
		t.Errorf("net/http refusal: %v (%+v)", err, he)
	}

	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{wholeEcho("echo")}})
	_, err = lws.Dial(ctx, wsURL(svc, "/"), &lws.DialOptions{Protocols: []string{"nonesuch"}})
	if !errors.As(err, &he) || he.Status != 400 || len(he.Body) == 0 || he.Header.Get("Content-Length") == "" {
		t.Errorf("our server's refusal: %v (%+v)", err, he)
	}

	addr := rawServer(t, func(c net.Conn, r *bufio.Reader, req *http.Request) {
		c.Write([]byte("SSH-2.0-OpenSSH_9.2\r\n\r\n"))
		r.ReadByte()
	})
	_, err = lws.Dial(ctx, "ws://"+addr+"/", nil)
	var pe *httpd.ResponseError
	if !errors.As(err, &he) || he.Status != 0 || he.Header != nil || !errors.As(err, &pe) {
		t.Errorf("not HTTP: %v, want a HandshakeError wrapping an httpd.ResponseError", err)
	}
	if !bytes.Contains([]byte(err.Error()), []byte("SSH")) {
		t.Errorf("not HTTP: %q does not quote the server", err)
	}
}
