package lws_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/tlsconn"
	"github.com/lws-go/lws/wsproto"
)

// testCert is one self-signed certificate for localhost and 127.0.0.1
// with a pool trusting it.
var testCert = sync.OnceValues(func() (tls.Certificate, *x509.CertPool) {
	cert, certPEM, _, err := tlsconn.SelfSigned()
	if err != nil {
		panic(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return cert, pool
})

// startTLSService runs a TLS service with the test certificate, an echo
// protocol (whole messages, compression on) and a small HTTP handler; it
// reports the TLS state servers saw per connection, as the handshake
// request's TLS (the zero state when that is nil).
func startTLSService(t testing.TB) (*lws.Service, chan tls.ConnectionState) {
	cert, _ := testCert()
	states := make(chan tls.ConnectionState, 64)
	p := deflateEcho(true, &lws.Compression{})
	p.OnEstablished = func(c *lws.Conn) {
		var st tls.ConnectionState
		if r := c.Request(); r.TLS != nil {
			st = *r.TLS
		}
		select {
		case states <- st:
		default:
		}
	}
	svc := startService(t, lws.Config{
		Protocols: []*lws.Protocol{p},
		TLS:       tlsconn.ServerConfigFor(cert),
		HTTP: func(r *lws.HTTPRequest) {
			st, _ := r.Conn().TLSState()
			r.Respond(200, "text/plain", []byte("hello over "+tls.VersionName(st.Version)+" alpn="+st.NegotiatedProtocol))
		},
	})
	return svc, states
}

func wssURL(svc *lws.Service, host string) string {
	return fmt.Sprintf("wss://%s:%d/", host, svc.Port())
}

// TestTLSDialEcho: our client over wss to our TLS server: verification
// against a given root, SNI and ALPN, compressed messages up to 1 MiB both
// ways; an unknown certificate refused unless verification is explicitly
// off.
func TestTLSDialEcho(t *testing.T) {
	svc, states := startTLSService(t)
	_, roots := testCert()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	cc, err := lws.Dial(ctx, wssURL(svc, "localhost"), &lws.DialOptions{TLSConfig: &tls.Config{RootCAs: roots}, Compression: &lws.Compression{}})
	if err != nil {
		t.Fatalf("Dial wss: %v", err)
	}
	st := <-states
	if st.ServerName != "localhost" || st.NegotiatedProtocol != "http/1.1" || st.Version < tls.VersionTLS12 {
		t.Errorf("server saw SNI %q, ALPN %q, %s", st.ServerName, st.NegotiatedProtocol, tls.VersionName(st.Version))
	}
	for _, msg := range [][]byte{{}, []byte("hello"), textPayload(100000), randomPayload(1<<20, 5)} {
		if err := cc.WriteMessage(ctx, lws.WriteBinary, msg); err != nil {
			t.Fatal(err)
		}
		_, got, err := cc.ReadMessage(ctx)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("%d bytes over wss: got %d, %v", len(msg), len(got), err)
		}
	}
	cc.Close(wsproto.CloseNormal, "")

	_, err = lws.Dial(ctx, wssURL(svc, "127.0.0.1"), nil) // system roots do not know the test certificate
	var verr *tls.CertificateVerificationError
	if !errors.As(err, &verr) {
		t.Errorf("unknown certificate: Dial returned %v, want a certificate verification error", err)
	}
	cc, err = lws.Dial(ctx, wssURL(svc, "127.0.0.1"), &lws.DialOptions{TLSConfig: &tls.Config{InsecureSkipVerify: true}})
	if err != nil {
		t.Fatalf("Dial with verification off: %v", err)
	}
	cc.Close(wsproto.CloseNormal, "")
}

// TestTLSHTTPS: the same port serves plain HTTP requests over TLS.
func TestTLSHTTPS(t *testing.T) {
	svc, _ := startTLSService(t)
	_, roots := testCert()
	// The client offers h2 and http/1.1; the server picks http/1.1.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, NextProtos: []string{"h2", "http/1.1"}}}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	for i := 0; i < 3; i++ { // the keep-alive connection serves them all
		resp, err := client.Get(fmt.Sprintf("https://localhost:%d/x", svc.Port()))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "hello over TLS 1.3 alpn=http/1.1") || resp.TLS == nil {
			t.Fatalf("GET %d: %d %q", i, resp.StatusCode, body)
		}
	}
}

// dribbleConn writes one byte a second: a client that sends its
// ClientHello that way.
type dribbleConn struct {
	net.Conn
	sent atomic.Int64
	stop chan struct{}
}

func (d *dribbleConn) Write(p []byte) (int, error) {
	for i := range p {
		if _, err := d.Conn.Write(p[i : i+1]); err != nil {
			return i, err
		}
		d.sent.Add(1)
		select {
		case <-d.stop:
			return i + 1, net.ErrClosed
		case <-time.After(time.Second):
		}
	}
	return len(p), nil
}

// TestTLSSlowHandshakeDoesNotStallLoop: while a client sends its
// ClientHello one byte a second, other clients on the same (single) loop
// complete TLS handshakes, WebSocket echoes and HTTPS requests.
func TestTLSSlowHandshakeDoesNotStallLoop(t *testing.T) {
	svc, _ := startTLSService(t)
	_, roots := testCert()
	raw, err := net.Dial("tcp", svc.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	slow := &dribbleConn{Conn: raw, stop: make(chan struct{})}
	slowDone := make(chan error, 1)
	go func() {
		slowDone <- tls.Client(slow, &tls.Config{RootCAs: roots, ServerName: "localhost"}).Handshake()
	}()
	defer func() {
		close(slow.stop)
		raw.Close()
		<-slowDone
	}()
	for slow.sent.Load() < 2 { // the server has the first bytes of the ClientHello
		time.Sleep(10 * time.Millisecond)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	for i := 0; i < 5; i++ {
		cc, err := lws.Dial(ctx, wssURL(svc, "localhost"), &lws.DialOptions{TLSConfig: &tls.Config{RootCAs: roots}})
		if err != nil {
			t.Fatalf("Dial %d: %v", i, err)
		}
		msg := []byte(fmt.Sprintf("message %d", i))
		if err := cc.WriteMessage(ctx, lws.WriteText, msg); err != nil {
			t.Fatal(err)
		}
		if _, got, err := cc.ReadMessage(ctx); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("echo %d: %q %v", i, got, err)
		}
		cc.Close(wsproto.CloseNormal, "")
		resp, err := client.Get(fmt.Sprintf("https://localhost:%d/", svc.Port()))
		if err != nil {
			t.Fatalf("GET %d: %v", i, err)
		}
		resp.Body.Close()
	}
	select {
	case err := <-slowDone:
		t.Fatalf("the slow handshake ended (%v) before the others were done: the test proves nothing", err)
	default:
	}
	t.Logf("5 wss echoes and 5 https GETs done while the slow client had sent %d bytes of its ClientHello", slow.sent.Load())
}

// TestTLSGarbageIsClosed: bytes that are not TLS end the connection
// without disturbing the service.
func TestTLSGarbageIsClosed(t *testing.T) {
	svc, _ := startTLSService(t)
	c, err := net.Dial("tcp", svc.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err = bufio.NewReader(c).ReadString('\n')
	if err == nil || errorsIsTimeout(err) {
		t.Fatalf("plain HTTP to the TLS port: %v, want the connection closed", err)
	}
	_, roots := testCert()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cc, err := lws.Dial(ctx, wssURL(svc, "localhost"), &lws.DialOptions{TLSConfig: &tls.Config{RootCAs: roots}})
	if err != nil {
		t.Fatalf("service unusable after garbage: %v", err)
	}
	cc.Close(wsproto.CloseNormal, "")
}

func errorsIsTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// hangUpConn is a TLS server's connection that hangs up (closes, or
// resets when reset) once it wrote limit bytes, or after its first write
// when limit is 0: a server that sends its flight and does not wait for
// the client's answer. cut reports whether bytes were held back.
type hangUpConn struct {
	net.Conn
	limit int
	reset bool
	sent  *int
	cut   *bool
}

func (c hangUpConn) Write(p []byte) (int, error) {
	if c.limit > 0 && *c.sent+len(p) > c.limit {
		p, *c.cut = p[:c.limit-*c.sent], true
	}
	n, err := c.Conn.Write(p)
	*c.sent += n
	if c.limit == 0 || *c.sent == c.limit {
		if c.reset {
			c.Conn.(*net.TCPConn).SetLinger(0)
		}
		c.Conn.Close()
	}
	return n, err
}

// serveTLSHangingUp serves one TLS handshake on ln through c's hanging
// up; it reports, once the server is done, whether it cut its output.
func serveTLSHangingUp(ln net.Listener, c hangUpConn) <-chan bool {
	served := make(chan bool, 1)
	go func() {
		var sent int
		var cut bool
		defer func() { served <- cut }()
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		c.Conn, c.sent, c.cut = conn, &sent, &cut
		cert, _ := testCert()
		tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}}).Handshake()
	}()
	return served
}

// TestTLSDialServerHangsUp: the end of the stream (or a reset) during the
// TLS handshake is reported after the handshake's own result, whichever
// reaches the loop first: a server that sends its whole flight and closes
// at once (the flight and the end come in one read) fails Dial with the
// certificate error when the client refuses its certificate, with the
// WebSocket handshake's end when it accepts it, and with the TLS
// handshake's end when the server sends nothing.
func TestTLSDialServerHangsUp(t *testing.T) {
	_, roots := testCert()
	cases := []struct {
		name   string
		roots  *x509.CertPool
		reset  bool
		silent bool // close after reading the ClientHello, sending nothing
		want   func(error) bool
		desc   string
	}{
		{name: "certificate refused", want: isVerifyError, desc: "a certificate verification error"},
		{name: "certificate refused, reset", reset: true, want: isVerifyError, desc: "a certificate verification error"},
		{name: "certificate accepted", roots: roots, want: isWebSocketHandshakeEnd, desc: "the end during the WebSocket handshake"},
		{name: "nothing sent", silent: true, want: errorSays("server closed the connection during the TLS handshake"), desc: "the end during the TLS handshake"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			var served <-chan bool
			if tc.silent {
				done := make(chan bool, 1)
				served = done
				go func() {
					defer func() { done <- true }()
					c, err := ln.Accept()
					if err != nil {
						return
					}
					defer c.Close()
					// Read the whole ClientHello record, so the close sends no reset.
					h := make([]byte, 5)
					if _, err := io.ReadFull(c, h); err == nil {
						io.CopyN(io.Discard, c, int64(h[3])<<8|int64(h[4]))
					}
				}()
			} else {
				served = serveTLSHangingUp(ln, hangUpConn{reset: tc.reset})
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			url := fmt.Sprintf("wss://localhost:%d/", ln.Addr().(*net.TCPAddr).Port)
			_, err = lws.Dial(ctx, url, &lws.DialOptions{TLSConfig: &tls.Config{RootCAs: tc.roots}})
			if err == nil || !tc.want(err) {
				t.Errorf("Dial returned %v, want %s", err, tc.desc)
			}
			<-served
		})
	}
}

func isVerifyError(err error) bool {
	var verr *tls.CertificateVerificationError
	return errors.As(err, &verr)
}

// isWebSocketHandshakeEnd reports whether err is Dial's for a server that
// hung up after the TLS handshake, before its answer: the end of the
// stream, or a reset (our request reached a closed socket).
func isWebSocketHandshakeEnd(err error) bool {
	s := err.Error()
	return !strings.Contains(s, "TLS") && (strings.Contains(s, "server closed the connection during the handshake") || strings.HasPrefix(s, "lws: handshake: "))
}

func errorSays(s string) func(error) bool {
	return func(err error) bool { return strings.Contains(err.Error(), s) }
}

// TestTLSDialServerCutsItsFlight: a server that hangs up (closes or
// resets) at any point of its handshake flight fails Dial with the end
// of the TLS handshake; one that sends it all, with the end of the
// WebSocket handshake. Never a hang, a panic or another error.
func TestTLSDialServerCutsItsFlight(t *testing.T) {
	_, roots := testCert()
	for _, reset := range []bool{false, true} {
		for limit := 1; ; limit += 97 {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			served := serveTLSHangingUp(ln, hangUpConn{limit: limit, reset: reset})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			_, err = lws.Dial(ctx, fmt.Sprintf("wss://localhost:%d/", ln.Addr().(*net.TCPAddr).Port), &lws.DialOptions{TLSConfig: &tls.Config{RootCAs: roots}})
			cancel()
			cut := <-served
			ln.Close()
			switch {
			case err == nil:
				t.Fatalf("reset %v, cut after %d bytes: Dial succeeded", reset, limit)
			case cut && !reset && !strings.Contains(err.Error(), "server closed the connection during the TLS handshake"),
				cut && reset && !strings.Contains(err.Error(), "TLS handshake"),
				!cut && !isWebSocketHandshakeEnd(err):
				t.Fatalf("reset %v, cut after %d bytes (flight cut: %v): Dial returned %v", reset, limit, cut, err)
			}
			if !cut {
				t.Logf("reset %v: the server's flight is under %d bytes; every cut before it failed the TLS handshake", reset, limit)
				break
			}
		}
	}
}
