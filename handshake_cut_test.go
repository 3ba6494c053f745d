package lws_test

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/tlsconn"
)

// cutWriteConn is a client's connection that hangs up once limit bytes
// are written: it half-closes (shutdown of its write side), or resets the
// connection when reset. Writes past the cut are dropped as if sent, so
// the client goes on until the server's answer (or its end) stops it.
type cutWriteConn struct {
	*net.TCPConn
	limit, sent int
	reset, cut  bool
}

func (c *cutWriteConn) Write(p []byte) (int, error) {
	if c.cut {
		return len(p), nil
	}
	k := min(len(p), c.limit-c.sent)
	n, err := c.TCPConn.Write(p[:k])
	c.sent += n
	if err != nil {
		return n, err
	}
	if c.sent == c.limit {
		c.cut = true
		if c.reset {
			c.TCPConn.SetLinger(0)
			c.TCPConn.Close()
		} else {
			c.TCPConn.CloseWrite()
		}
	}
	return len(p), nil
}

// cutHandshake runs one client handshake (TLS when roots is not nil, then
// the WebSocket upgrade) against addr that hangs up after limit bytes.
// It reports whether the cut came before the whole handshake was sent;
// after a half-close it checks that the server closed its side: the
// client reads the end of the stream, not its deadline.
func cutHandshake(t *testing.T, addr string, limit int, reset bool, roots bool) (cut bool) {
	t.Helper()
	raw, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(20 * time.Second))
	cc := &cutWriteConn{TCPConn: raw.(*net.TCPConn), limit: limit, reset: reset}
	var c net.Conn = cc
	var err1 error
	if roots {
		_, pool := testCert()
		tc := tls.Client(cc, &tls.Config{RootCAs: pool, ServerName: "localhost"})
		err1 = tc.Handshake()
		c = tc
	}
	status := 0
	if err1 == nil {
		req := "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: echo\r\n\r\n"
		var resp *http.Response
		if _, err1 = c.Write([]byte(req)); err1 == nil {
			if resp, err1 = http.ReadResponse(bufio.NewReader(c), nil); err1 == nil {
				status = resp.StatusCode
			}
		}
	}
	if !cc.cut && (err1 != nil || status != 101) {
		t.Fatalf("the whole handshake (%d bytes): status %d, %v", cc.sent, status, err1)
	}
	cut = cc.cut
	if !cut { // the whole handshake went through: hang up now
		cc.limit = cc.sent
		cc.Write([]byte{0})
	}
	if !reset {
		if _, err := io.Copy(io.Discard, raw); err != nil {
			t.Fatalf("cut after %d bytes: reading the server's end: %v", limit, err)
		}
	}
	return cut
}

// TestServerHandshakeCut: a client that hangs up at any point of its
// handshake, TLS and the HTTP upgrade (half-closing, or resetting), is
// closed by the server at once: a half-closed client reads the end of
// the stream (HandshakeTimeout is an hour, so no timer does it); the
// descriptors and goroutines come back; the service goes on serving.
func TestServerHandshakeCut(t *testing.T) {
	cert, _ := testCert()
	for _, secure := range []bool{false, true} {
		for _, reset := range []bool{false, true} {
			t.Run(fmt.Sprintf("tls=%v,reset=%v", secure, reset), func(t *testing.T) {
				cfg := lws.Config{
					Protocols: []*lws.Protocol{echoProtocol("echo")},
					Limits:    lws.Limits{HandshakeTimeout: time.Hour},
				}
				step := 7
				if secure {
					cfg.TLS = tlsconn.ServerConfigFor(cert)
					step = 41
				}
				svc := startService(t, cfg)
				base := snapshot(t)
				cuts := 0
				for limit := 1; cutHandshake(t, svc.Addr().String(), limit, reset, secure); limit += step {
					cuts++
				}
				// The last handshake, whole, was served.
				waitBaseline(t, base, fmt.Sprintf("after %d cut handshakes", cuts))
			})
		}
	}
}
