package lws_test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lws-go/lws"
)

// startService runs a service on a free loopback port for one test.
func startService(t testing.TB, cfg lws.Config) *lws.Service {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	svc, err := lws.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	runUntilCleanup(t, svc)
	return svc
}

// runUntilCleanup runs svc until the test ends, then closes it and checks
// Run returns cleanly.
func runUntilCleanup(t testing.TB, svc *lws.Service) {
	done := make(chan error, 1)
	go func() { done <- svc.Run() }()
	t.Cleanup(func() {
		svc.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return after Close")
		}
	})
}

// echoProtocol echoes every piece it receives with the same type and
// fragmentation: a piece that does not end its message is sent without
// FIN, and the pieces after it as continuations.
func echoProtocol(name string) *lws.Protocol {
	return &lws.Protocol{
		Name: name,
		OnReceive: func(c *lws.Conn, data []byte) {
			inMessage, _ := c.User().(bool)
			mode := lws.WriteText
			switch {
			case inMessage:
				mode = lws.WriteContinuation
			case c.IsBinary():
				mode = lws.WriteBinary
			}
			if !c.IsFinalFragment() {
				mode |= lws.WriteNoFin
			}
			c.SetUser(!c.IsFinalFragment())
			c.Write(data, mode)
		},
	}
}

// rawConn is a test client speaking raw bytes.
type rawConn struct {
	net.Conn
	r *bufio.Reader
}

const testKey = "dGhlIHNhbXBsZSBub25jZQ=="

// dialWS opens a TCP connection and completes a handshake offering proto
// (none when empty).
func dialWS(t testing.TB, svc *lws.Service, proto string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", svc.Addr().String(), 10*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return handshakeWS(t, c, "/", proto, nil)
}

// handshakeWS completes a handshake for path offering proto (none when
// empty) on an open connection; early bytes (frames) are sent in the same
// write as the request.
func handshakeWS(t testing.TB, c net.Conn, path, proto string, early []byte) *rawConn {
	t.Helper()
	req := "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n"
	if proto != "" {
		req += "Sec-WebSocket-Protocol: " + proto + "\r\n"
	}
	req += "\r\n"
	if _, err := c.Write(append([]byte(req), early...)); err != nil {
		t.Fatalf("write handshake: %v", err)
	}
	rc := &rawConn{Conn: c, r: bufio.NewReader(c)}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(rc.r, nil)
	if err != nil {
		t.Fatalf("read handshake response: %v", err)
	}
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("handshake: status %d, accept %q", resp.StatusCode, resp.Header.Get("Sec-WebSocket-Accept"))
	}
	c.SetReadDeadline(time.Time{})
	return rc
}

// frame builds a client frame: b0 is FIN/RSV/opcode, the payload is masked
// with key.
func frame(b0 byte, key [4]byte, payload []byte) []byte {
	out := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		out = append(out, 0x80|byte(n))
	case n < 65536:
		out = append(out, 0x80|126, byte(n>>8), byte(n))
	default:
		out = append(out, 0x80|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	out = append(out, key[:]...)
	for i, b := range payload {
		out = append(out, b^key[i%4])
	}
	return out
}

var key1 = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// serverFrame is one frame read from the server.
type serverFrame struct {
	fin     bool
	rsv     byte
	op      byte
	masked  bool
	payload []byte
}

func (s serverFrame) String() string {
	return fmt.Sprintf("{fin %v op %d len %d %q}", s.fin, s.op, len(s.payload), s.payload)
}

// readFrame reads one frame from the server, with a timeout.
func (c *rawConn) readFrame(t testing.TB) (serverFrame, error) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var h [2]byte
	if _, err := io.ReadFull(c.r, h[:]); err != nil {
		return serverFrame{}, err
	}
	f := serverFrame{fin: h[0]&0x80 != 0, rsv: h[0] & 0x70, op: h[0] & 0x0f, masked: h[1]&0x80 != 0}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(c.r, b[:]); err != nil {
			return f, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(c.r, b[:]); err != nil {
			return f, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	f.payload = make([]byte, n)
	_, err := io.ReadFull(c.r, f.payload)
	return f, err
}

// expectClose reads frames until a close frame and returns its code (0 for
// an empty close payload); then it checks the server ends the TCP stream.
func (c *rawConn) expectClose(t testing.TB) (code int, reason string) {
	t.Helper()
	for {
		f, err := c.readFrame(t)
		if err != nil {
			t.Fatalf("waiting for a close frame: %v", err)
		}
		if f.masked {
			t.Fatalf("server sent a masked frame %v", f)
		}
		if f.op != 8 {
			continue
		}
		if len(f.payload) >= 2 {
			code = int(binary.BigEndian.Uint16(f.payload))
			reason = string(f.payload[2:])
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.r.ReadByte(); err != io.EOF && !strings.Contains(fmt.Sprint(err), "reset") {
			t.Fatalf("after the close frame the server did not end the connection: %v", err)
		}
		return code, reason
	}
}

// fdBackendOnly skips a test of what only the descriptor backends (epoll,
// poll) promise, such as no goroutine and no allocation per connection,
// or a socket option set on Conn.FD, when the suite runs with the
// portable backend forced (LWS_TEST_BACKEND=portable), which costs two
// goroutines and buffers per connection by design.
func fdBackendOnly(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("LWS_TEST_BACKEND") == "portable" {
		t.Skipf("the portable backend does not promise it: %s", what)
	}
}
