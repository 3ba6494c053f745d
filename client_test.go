package lws_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/wsproto"
)

// startClientService runs a service with no listener, the shape every
// client-only program has: Run must keep running until Close.
func startClientService(t testing.TB) *lws.Service {
	t.Helper()
	svc, err := lws.New(lws.Config{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if svc.Addr() != nil {
		t.Fatalf("client-only service has a listener at %v", svc.Addr())
	}
	runUntilCleanup(t, svc)
	return svc
}

// clientEvent is one callback of a client connection.
type clientEvent struct {
	kind   string // established, receive, closed, error, pong
	data   []byte
	binary bool
	code   wsproto.CloseCode
	reason string
	err    error
}

// recorder is a client Protocol that reports every callback on a channel.
type recorder struct {
	proto  *lws.Protocol
	events chan clientEvent
}

func newRecorder() *recorder {
	r := &recorder{events: make(chan clientEvent, 1024)}
	r.proto = &lws.Protocol{
		Name:          "rec",
		Reassemble:    true,
		OnEstablished: func(c *lws.Conn) { r.events <- clientEvent{kind: "established", data: []byte(c.Subprotocol())} },
		OnReceive: func(c *lws.Conn, data []byte) {
			r.events <- clientEvent{kind: "receive", data: append([]byte(nil), data...), binary: c.IsBinary()}
		},
		OnPong: func(c *lws.Conn, p []byte) { r.events <- clientEvent{kind: "pong", data: append([]byte(nil), p...)} },
		OnClosed: func(c *lws.Conn, code wsproto.CloseCode, reason string) {
			r.events <- clientEvent{kind: "closed", code: code, reason: reason}
		},
		OnConnectionError: func(c *lws.Conn, err error) { r.events <- clientEvent{kind: "error", err: err} },
	}
	return r
}

func (r *recorder) next(t testing.TB) clientEvent {
	t.Helper()
	select {
	case ev := <-r.events:
		return ev
	case <-time.After(20 * time.Second):
		t.Fatal("no client callback within 20s")
	}
	return clientEvent{}
}

// rawServer accepts one connection per test case and runs a script on it.
func rawServer(t testing.TB, script func(c net.Conn, r *bufio.Reader, req *http.Request)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		r := bufio.NewReader(c)
		req, err := http.ReadRequest(r)
		if err != nil {
			t.Errorf("raw server: reading the handshake request: %v", err)
			return
		}
		script(c, r, req)
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return ln.Addr().String()
}

func accept(req *http.Request) string { return wsproto.AcceptKey(req.Header.Get("Sec-WebSocket-Key")) }

// writeMaybeBytewise writes b whole or one byte per write.
func writeMaybeBytewise(c net.Conn, b []byte, bytewise bool) {
	if !bytewise {
		c.Write(b)
		return
	}
	for i := range b {
		if _, err := c.Write(b[i : i+1]); err != nil {
			return
		}
	}
}

// unmasked builds a server frame.
func unmasked(b0 byte, payload []byte) []byte {
	return wsproto.AppendFrame(nil, wsproto.Header{Fin: b0&0x80 != 0, Opcode: wsproto.Opcode(b0 & 0x0f), Length: int64(len(payload))}, payload)
}

// readClientFrame reads one frame from the client; it must be masked. It
// returns the unmasked payload and the key.
func readClientFrame(t testing.TB, r *bufio.Reader) (op wsproto.Opcode, payload []byte, key [4]byte) {
	t.Helper()
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		t.Errorf("reading a client frame: %v", err)
		return 0, nil, key
	}
	if h[1]&0x80 == 0 {
		t.Errorf("client frame not masked: % x", h)
	}
	n := int(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		io.ReadFull(r, b[:])
		n = int(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		io.ReadFull(r, b[:])
		n = int(binary.BigEndian.Uint64(b[:]))
	}
	io.ReadFull(r, key[:])
	payload = make([]byte, n)
	io.ReadFull(r, payload)
	wsproto.Mask(key, 0, payload)
	return wsproto.Opcode(h[0] & 0x0f), payload, key
}

const head101 = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"

// TestClientHandshakeChecks runs the client against a scripted server
// that answers the handshake wrongly in one way per case: each must fail
// the connection with OnConnectionError naming the fault, and never
// establish it. Each response is sent whole and one byte at a time.
func TestClientHandshakeChecks(t *testing.T) {
	cases := []struct {
		name    string
		offer   []string
		resp    func(req *http.Request) string
		wantErr string
		status  int
		hangup  bool // the server closes after its response
	}{
		{name: "not found", resp: func(*http.Request) string {
			return "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
		}, wantErr: "server answered 404 Not Found, not 101", status: 404},
		{name: "200 OK", resp: func(*http.Request) string { return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi" },
			wantErr: "server answered 200 OK", status: 200},
		{name: "wrong accept", resp: func(req *http.Request) string {
			return head101 + "Sec-WebSocket-Accept: " + wsproto.AcceptKey("dGhlIHNhbXBsZSBub25jZQ==") + "\r\n\r\n"
		}, wantErr: "Sec-WebSocket-Accept \"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\" does not match our key", status: 101},
		{name: "accept of the raw key", resp: func(req *http.Request) string {
			return head101 + "Sec-WebSocket-Accept: " + req.Header.Get("Sec-WebSocket-Key") + "\r\n\r\n"
		}, wantErr: "does not match our key", status: 101},
		{name: "no accept", resp: func(*http.Request) string { return head101 + "\r\n" }, wantErr: "no Sec-WebSocket-Accept", status: 101},
		{name: "two accepts", resp: func(req *http.Request) string {
			return head101 + "Sec-WebSocket-Accept: " + accept(req) + "\r\nSec-WebSocket-Accept: " + accept(req) + "\r\n\r\n"
		}, wantErr: "does not match", status: 101},
		{name: "no upgrade", resp: func(req *http.Request) string {
			return "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept(req) + "\r\n\r\n"
		}, wantErr: "Upgrade header is \"\", not websocket", status: 101},
		{name: "upgrade to h2c", resp: func(req *http.Request) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept(req) + "\r\n\r\n"
		}, wantErr: "Upgrade header is \"h2c\"", status: 101},
		{name: "connection keep-alive", resp: func(req *http.Request) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: keep-alive\r\nSec-WebSocket-Accept: " + accept(req) + "\r\n\r\n"
		}, wantErr: "Connection header \"keep-alive\" lacks the upgrade token", status: 101},
		{name: "HTTP/1.0", resp: func(req *http.Request) string {
			return "HTTP/1.0 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept(req) + "\r\n\r\n"
		}, wantErr: "HTTP/1.0", status: 101},
		{name: "subprotocol not offered", offer: []string{"chat", "superchat"}, resp: func(req *http.Request) string {
			return head101 + "Sec-WebSocket-Accept: " + accept(req) + "\r\nSec-WebSocket-Protocol: evil\r\n\r\n"
		}, wantErr: `server selected subprotocol "evil", which we did not offer (offered "chat, superchat")`, status: 101},
		{name: "subprotocol when none offered", resp: func(req *http.Request) string {
			return head101 + "Sec-WebSocket-Accept: " + accept(req) + "\r\nSec-WebSocket-Protocol: chat\r\n\r\n"
		}, wantErr: `server selected subprotocol "chat", but we offered none`, status: 101},
		{name: "two subprotocols", offer: []string{"chat", "superchat"}, resp: func(req *http.Request) string {
			return head101 + "Sec-WebSocket-Accept: " + accept(req) + "\r\nSec-WebSocket-Protocol: chat, superchat\r\n\r\n"
		}, wantErr: "more than one subprotocol", status: 101},
		{name: "extension not offered", resp: func(req *http.Request) string {
			return head101 + "Sec-WebSocket-Accept: " + accept(req) + "\r\nSec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n\r\n"
		}, wantErr: `server accepted extension "permessage-deflate", which we did not offer`, status: 101},
		{name: "garbage", resp: func(*http.Request) string { return "SSH-2.0-OpenSSH_9.2\r\n\r\n" },
			wantErr: "bad response from the server: httpd: malformed response: malformed status line \"SSH-2.0-OpenSSH_9.2\""},
		{name: "closed mid-head", resp: func(*http.Request) string { return "HTTP/1.1 101 Switching" },
			wantErr: "server closed the connection during the handshake", hangup: true},
	}
	svc := startClientService(t)
	for _, tc := range cases {
		for _, bytewise := range []bool{false, true} {
			name := tc.name
			if bytewise {
				name += "/bytewise"
			}
			t.Run(name, func(t *testing.T) {
				addr := rawServer(t, func(c net.Conn, r *bufio.Reader, req *http.Request) {
					writeMaybeBytewise(c, []byte(tc.resp(req)), bytewise)
					if tc.hangup {
						return
					}
					// Hold the connection until the client gives up on it.
					c.SetReadDeadline(time.Now().Add(20 * time.Second))
					if n, err := r.Read(make([]byte, 1)); n > 0 {
						t.Errorf("client sent data after a failed handshake")
					} else if err == nil {
						t.Errorf("client connection not closed")
					}
				})
				rec := newRecorder()
				if _, err := svc.Connect(lws.ClientInfo{URL: "ws://" + addr + "/", Protocol: rec.proto, Protocols: tc.offer}); err != nil {
					t.Fatal(err)
				}
				ev := rec.next(t)
				if ev.kind != "error" {
					t.Fatalf("got %s, want a connection error containing %q", ev.kind, tc.wantErr)
				}
				if !strings.Contains(ev.err.Error(), tc.wantErr) {
					t.Fatalf("error %q, want it to contain %q", ev.err, tc.wantErr)
				}
				var he *lws.HandshakeError
				if tc.status != 0 && (!errors.As(ev.err, &he) || he.Status != tc.status) {
					t.Fatalf("error %#v, want a HandshakeError with status %d", ev.err, tc.status)
				}
				select {
				case ev := <-rec.events:
					t.Fatalf("callback %s after the connection error", ev.kind)
				default:
				}
			})
		}
	}
	waitCond(t, "client connections gone", func() bool { return svc.Connections() == 0 })
}

// TestClientRequestAndFrames checks the handshake request the client
// writes, then the framing both ways against a scripted server: server
// frames (sent in the same packet as the 101, or byte by byte) arrive
// exactly as sent, never unmasked by mistake; every client frame is
// masked, each with a fresh key; a ping is answered; a close from the
// server is echoed and reported.
func TestClientRequestAndFrames(t *testing.T) {
	svc := startClientService(t)
	binaryPayload := make([]byte, 300)
	for i := range binaryPayload {
		binaryPayload[i] = byte(i)
	}
	serverFrames := bytes.Join([][]byte{
		unmasked(0x81, []byte("hello")),
		unmasked(0x82, binaryPayload),
		unmasked(0x01, []byte("frag")),
		unmasked(0x89, []byte("ping!")),
		unmasked(0x80, []byte("ment")),
		unmasked(0x81, nil),
	}, nil)
	for _, bytewise := range []bool{false, true} {
		t.Run(map[bool]string{false: "whole", true: "bytewise"}[bytewise], func(t *testing.T) {
			keys := make(chan [4]byte, 16)
			addr := rawServer(t, func(c net.Conn, r *bufio.Reader, req *http.Request) {
				checks := []struct{ what, got, want string }{
					{"method", req.Method, "GET"},
					{"target", req.RequestURI, "/chat?room=1"},
					{"proto", req.Proto, "HTTP/1.1"},
					{"Host", req.Host, "example.test:8080"},
					{"Upgrade", req.Header.Get("Upgrade"), "websocket"},
					{"Connection", req.Header.Get("Connection"), "Upgrade"},
					{"Sec-WebSocket-Version", req.Header.Get("Sec-WebSocket-Version"), "13"},
					{"Origin", req.Header.Get("Origin"), "http://example.test"},
					{"Sec-WebSocket-Protocol", req.Header.Get("Sec-WebSocket-Protocol"), "chat, superchat"},
					{"X-Custom", strings.Join(req.Header.Values("X-Custom"), "|"), "a|b"},
				}
				for _, ck := range checks {
					if ck.got != ck.want {
						t.Errorf("request %s = %q, want %q", ck.what, ck.got, ck.want)
					}
				}
				if k, err := base64.StdEncoding.DecodeString(req.Header.Get("Sec-WebSocket-Key")); err != nil || len(k) != 16 {
					t.Errorf("Sec-WebSocket-Key %q is not base64 of 16 bytes", req.Header.Get("Sec-WebSocket-Key"))
				}
				resp := head101 + "Sec-WebSocket-Accept: " + accept(req) + "\r\nSec-WebSocket-Protocol: superchat\r\n\r\n"
				writeMaybeBytewise(c, append([]byte(resp), serverFrames...), bytewise)
				// The pong, then three messages from the client.
				op, p, key := readClientFrame(t, r)
				if op != wsproto.OpPong || string(p) != "ping!" {
					t.Errorf("client answered the ping with %v %q", op, p)
				}
				keys <- key
				for i := 0; i < 3; i++ {
					op, p, key := readClientFrame(t, r)
					if op != wsproto.OpText || string(p) != "same message" {
						t.Errorf("client message %d: %v %q", i, op, p)
					}
					keys <- key
				}
				// Server-initiated close: the client must echo it.
				c.Write(unmasked(0x88, append([]byte{0x0f, 0xa0}, "server bye"...)))
				op, p, key = readClientFrame(t, r)
				if op != wsproto.OpClose || string(p) != "\x0f\xa0server bye" {
					t.Errorf("client answered the close with %v %q", op, p)
				}
				keys <- key
				close(keys)
				// The client waits for the server to close the TCP connection.
				c.SetReadDeadline(time.Now().Add(20 * time.Second))
				if _, err := r.ReadByte(); err != io.EOF {
					t.Errorf("after the close handshake the client sent more or hung: %v", err)
				}
			})
			rec := newRecorder()
			rec.proto.OnEstablished = func(c *lws.Conn) {
				rec.events <- clientEvent{kind: "established", data: []byte(c.Subprotocol())}
			}
			var conn *lws.Conn
			rec.proto.OnReceive = func(c *lws.Conn, data []byte) {
				conn = c
				rec.events <- clientEvent{kind: "receive", data: append([]byte(nil), data...), binary: c.IsBinary()}
			}
			_, err := svc.Connect(lws.ClientInfo{
				Address: "127.0.0.1", Port: mustPort(t, addr), Path: "/chat?room=1", Host: "example.test:8080",
				Origin: "http://example.test", Protocols: []string{"chat", "superchat"}, Protocol: rec.proto,
				Header: http.Header{"X-Custom": {"a", "b"}},
			})
			if err != nil {
				t.Fatal(err)
			}
			if ev := rec.next(t); ev.kind != "established" || string(ev.data) != "superchat" {
				t.Fatalf("got %s %q, want established with subprotocol superchat (err %v)", ev.kind, ev.data, ev.err)
			}
			want := []clientEvent{
				{kind: "receive", data: []byte("hello")},
				{kind: "receive", data: binaryPayload, binary: true},
				{kind: "receive", data: []byte("fragment")},
				{kind: "receive", data: []byte{}},
			}
			for i, w := range want {
				ev := rec.next(t)
				if ev.kind != w.kind || !bytes.Equal(ev.data, w.data) || ev.binary != w.binary {
					t.Fatalf("event %d: got %s %q binary %v, want %s %q binary %v", i, ev.kind, ev.data, ev.binary, w.kind, w.data, w.binary)
				}
			}
			for i := 0; i < 3; i++ {
				svcPost(t, svc, func() { conn.Write([]byte("same message"), lws.WriteText) })
			}
			if ev := rec.next(t); ev.kind != "closed" || ev.code != 4000 || ev.reason != "server bye" {
				t.Fatalf("got %s %d %q, want closed 4000 \"server bye\"", ev.kind, ev.code, ev.reason)
			}
			seen := map[[4]byte]bool{}
			for k := range keys {
				seen[k] = true
			}
			if len(seen) < 4 {
				t.Errorf("5 client frames used only %d distinct masking keys", len(seen))
			}
		})
	}
}

func mustPort(t testing.TB, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range p {
		n = n*10 + int(c-'0')
	}
	return n
}

// svcPost runs f on loop 0 of svc and waits for it.
func svcPost(t testing.TB, svc *lws.Service, f func()) {
	t.Helper()
	done := make(chan struct{})
	if err := svc.Post(func() { f(); close(done) }); err != nil {
		t.Fatal(err)
	}
	<-done
}

// TestClientFailsOnServerProtocolErrors: a masked frame from the server,
// or a bad one, fails the established connection with 1002 and a masked
// close frame from the client.
func TestClientFailsOnServerProtocolErrors(t *testing.T) {
	masked := wsproto.AppendFrame(nil, wsproto.Header{Fin: true, Opcode: wsproto.OpText, Masked: true, Mask: [4]byte{1, 2, 3, 4}}, []byte("hidden"))
	cases := []struct {
		name  string
		frame []byte
		code  wsproto.CloseCode
	}{
		{"masked server frame", masked, wsproto.CloseProtocolError},
		{"reserved opcode", unmasked(0x83, nil), wsproto.CloseProtocolError},
		{"bad utf-8", unmasked(0x81, []byte{0xff}), wsproto.CloseInvalidPayload},
	}
	svc := startClientService(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := rawServer(t, func(c net.Conn, r *bufio.Reader, req *http.Request) {
				c.Write([]byte(head101 + "Sec-WebSocket-Accept: " + accept(req) + "\r\n\r\n"))
				c.Write(tc.frame)
				op, p, _ := readClientFrame(t, r)
				if op != wsproto.OpClose || len(p) < 2 || wsproto.CloseCode(binary.BigEndian.Uint16(p)) != tc.code {
					t.Errorf("client answered with %v %q, want close %d", op, p, tc.code)
				}
			})
			rec := newRecorder()
			if _, err := svc.Connect(lws.ClientInfo{URL: "ws://" + addr, Protocol: rec.proto}); err != nil {
				t.Fatal(err)
			}
			if ev := rec.next(t); ev.kind != "established" {
				t.Fatalf("got %s (%v), want established", ev.kind, ev.err)
			}
			ev := rec.next(t)
			if ev.kind == "receive" {
				t.Fatalf("the bad frame was delivered: %q", ev.data)
			}
			if ev.kind != "closed" || ev.code != tc.code {
				t.Fatalf("got %s %d, want closed %d", ev.kind, ev.code, tc.code)
			}
		})
	}
}

// TestClientHandshakeTimeout: a server that accepts and never answers
// fails the connection after ClientInfo.HandshakeTimeout.
func TestClientHandshakeTimeout(t *testing.T) {
	svc := startClientService(t)
	addr := rawServer(t, func(c net.Conn, r *bufio.Reader, req *http.Request) {
		r.ReadByte() // until the client gives up
	})
	rec := newRecorder()
	if _, err := svc.Connect(lws.ClientInfo{URL: "ws://" + addr, Protocol: rec.proto, HandshakeTimeout: 200 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if ev := rec.next(t); ev.kind != "error" || !strings.Contains(ev.err.Error(), "handshake timed out after 200ms") {
		t.Fatalf("got %s %v, want a handshake timeout", ev.kind, ev.err)
	}
}

// TestClientConnectOnClosedService: Connect after Close fails; a
// connection in progress when the service closes gets ErrServiceClosed.
func TestClientConnectAndServiceClose(t *testing.T) {
	svc, err := lws.New(lws.Config{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- svc.Run() }()
	addr := rawServer(t, func(c net.Conn, r *bufio.Reader, req *http.Request) { r.ReadByte() })
	rec := newRecorder()
	if _, err := svc.Connect(lws.ClientInfo{URL: "ws://" + addr, Protocol: rec.proto}); err != nil {
		t.Fatal(err)
	}
	waitCond(t, "connection in the table", func() bool { return svc.Connections() == 1 })
	svc.Close()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if ev := rec.next(t); ev.kind != "error" || !errors.Is(ev.err, lws.ErrServiceClosed) {
		t.Fatalf("got %s %v, want ErrServiceClosed", ev.kind, ev.err)
	}
	if _, err := svc.Connect(lws.ClientInfo{URL: "ws://" + addr, Protocol: rec.proto}); !errors.Is(err, lws.ErrServiceClosed) {
		t.Fatalf("Connect after Close: %v", err)
	}
}

// TestClientAbandonWhileConnecting: Conn.Close on a client connection
// whose connect hangs abandons it with OnConnectionError(ErrClosed).
func TestClientAbandonWhileConnecting(t *testing.T) {
	addr := blackhole(t)
	svc := startClientService(t)
	rec := newRecorder()
	c, err := svc.Connect(lws.ClientInfo{URL: "ws://" + addr, Protocol: rec.proto})
	if err != nil {
		t.Fatal(err)
	}
	waitCond(t, "the connect in progress", func() bool { return svc.Connections() == 1 })
	svcPost(t, svc, func() {
		if err := c.Write([]byte("x"), lws.WriteText); !errors.Is(err, lws.ErrNotEstablished) {
			t.Errorf("Write while connecting: %v, want ErrNotEstablished", err)
		}
		c.Close(wsproto.CloseNormal, "")
	})
	if ev := rec.next(t); ev.kind != "error" || !errors.Is(ev.err, lws.ErrClosed) {
		t.Fatalf("got %s %v, want a connection error ErrClosed", ev.kind, ev.err)
	}
	waitCond(t, "the connection gone", func() bool { return svc.Connections() == 0 })
}
