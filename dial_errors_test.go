package lws_test

// Errors in stream order: a connection that fails for what the peer sent
// first delivers every message before the offending frame, and only then
// fails. These are the shapes of Autobahn's cases 3.2-3.4, 4.1.3-4.1.5,
// 4.2.3-4.2.5 and 5.15 (a valid message, then a violation, often then a
// PING), each sent in one write so that the valid message and the
// violation arrive in the same read; the echo of the valid message must
// leave before the close frame with 1002, and the PING after the violation
// must not be answered.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/wsproto"
)

// rawFrame is one frame of a case: its first byte (FIN, RSV, opcode) and
// payload.
type rawFrame struct {
	b0      byte
	payload string
}

// encode is the frame as a server sends it (unmasked), or masked with key
// as a client does.
func (f rawFrame) encode(masked bool, key [4]byte) []byte {
	if masked {
		return frame(f.b0, key, []byte(f.payload))
	}
	return append([]byte{f.b0, byte(len(f.payload))}, f.payload...) // payloads < 126 bytes

}

const hello = "Hello, world!"

var streamOrderCases = []struct {
	name   string
	frames []rawFrame
	echoes []rawFrame // the echoes of the messages before the violation
}{
	{"3.2 RSV=2 after a valid text", []rawFrame{{0x81, hello}, {0xA1, hello}, {0x89, hello}}, []rawFrame{{0x81, hello}}},
	{"3.3 RSV=3 after a valid text", []rawFrame{{0x81, hello}, {0xB1, hello}, {0x89, hello}}, []rawFrame{{0x81, hello}}},
	{"3.4 RSV=4 after a valid text", []rawFrame{{0x81, hello}, {0xC1, hello}, {0x89, hello}}, []rawFrame{{0x81, hello}}},
	{"4.1.3 opcode 5 after a valid text", []rawFrame{{0x81, hello}, {0x85, ""}, {0x89, hello}}, []rawFrame{{0x81, hello}}},
	{"4.1.4 opcode 6 with payload after a valid text", []rawFrame{{0x81, hello}, {0x86, hello}, {0x89, hello}}, []rawFrame{{0x81, hello}}},
	{"4.1.5 opcode 7 with payload after a valid text", []rawFrame{{0x81, hello}, {0x87, hello}, {0x89, hello}}, []rawFrame{{0x81, hello}}},
	{"4.2.3 opcode 13 after a valid text", []rawFrame{{0x81, hello}, {0x8D, ""}, {0x89, hello}}, []rawFrame{{0x81, hello}}},
	{"4.2.4 opcode 14 with payload after a valid text", []rawFrame{{0x81, hello}, {0x8E, hello}, {0x89, hello}}, []rawFrame{{0x81, hello}}},
	{"4.2.5 opcode 15 with payload after a valid text", []rawFrame{{0x81, hello}, {0x8F, hello}, {0x89, hello}}, []rawFrame{{0x81, hello}}},
	{"5.15 continuation with nothing to continue after a fragmented text",
		[]rawFrame{{0x01, "fragment1"}, {0x80, "fragment2"}, {0x00, "fragment3"}, {0x81, "fragment4"}},
		[]rawFrame{{0x81, "fragment1fragment2"}}},
	{"two valid messages, then RSV=2", []rawFrame{{0x81, "one"}, {0x82, "two"}, {0xA1, hello}}, []rawFrame{{0x81, "one"}, {0x82, "two"}}},
}

// readFrameExact reads one frame and checks it is exactly b0 (FIN, RSV,
// opcode), masked as wanted, carrying payload (unmasked).
func readFrameExact(r io.Reader, masked bool) (b0 byte, payload []byte, err error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	if (h[1]&0x80 != 0) != masked {
		return h[0], nil, fmt.Errorf("frame % x: mask bit %v, want %v", h, h[1]&0x80 != 0, masked)
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return h[0], nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return h[0], nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 1<<20 {
		return h[0], nil, fmt.Errorf("frame of %d bytes", n)
	}
	var key [4]byte
	if masked {
		if _, err := io.ReadFull(r, key[:]); err != nil {
			return h[0], nil, err
		}
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return h[0], nil, err
	}
	if masked {
		wsproto.Mask(key, 0, payload)
	}
	return h[0], payload, nil
}

// checkEchoesThenClose reads the echoes (exact frames) then a close frame
// with code, then the end of the stream, and reports the first difference.
func checkEchoesThenClose(r io.Reader, masked bool, echoes []rawFrame, code wsproto.CloseCode) error {
	for i, e := range echoes {
		b0, p, err := readFrameExact(r, masked)
		if err != nil {
			return fmt.Errorf("echo %d: %v", i, err)
		}
		if b0 != e.b0 || string(p) != e.payload {
			return fmt.Errorf("echo %d: frame %#x %q, want %#x %q", i, b0, p, e.b0, e.payload)
		}
	}
	b0, p, err := readFrameExact(r, masked)
	if err != nil {
		return fmt.Errorf("close frame: %v", err)
	}
	if b0 != 0x88 || len(p) < 2 || wsproto.CloseCode(binary.BigEndian.Uint16(p)) != code {
		return fmt.Errorf("after the echoes: frame %#x %q, want a close frame with %d", b0, p, code)
	}
	if rest, err := io.ReadAll(r); len(rest) > 0 || err != nil {
		return fmt.Errorf("after the close frame: % x, %v; want the end of the stream", rest, err)
	}
	return nil
}

// echoUntilError reads messages and writes each back as Autobahn's echo
// client does, and returns the error that ended reading.
func echoUntilError(ctx context.Context, cc *lws.ClientConn) error {
	for {
		op, msg, err := cc.ReadMessage(ctx)
		if err != nil {
			return err
		}
		if err := cc.WriteMessage(ctx, op, msg); err != nil {
			return fmt.Errorf("echo: %w", err)
		}
	}
}

// TestDialFailsInStreamOrder: the client role. A raw server answers the
// handshake, then sends each case's frames in one write; the Dial client
// echoes every message. The server must receive the echoes, then the
// client's close frame with 1002, then the end of the stream; the reader
// gets the CloseError with 1002 from this side.
func TestDialFailsInStreamOrder(t *testing.T) {
	svc := startClientService(t)
	for _, tc := range streamOrderCases {
		t.Run(tc.name, func(t *testing.T) {
			serverErr := make(chan error, 1)
			addr := rawServer(t, func(c net.Conn, r *bufio.Reader, req *http.Request) {
				c.Write([]byte(head101 + "Sec-WebSocket-Accept: " + accept(req) + "\r\n\r\n"))
				var out []byte
				for _, f := range tc.frames {
					out = append(out, f.encode(false, key1)...)
				}
				c.Write(out)
				err := checkEchoesThenClose(r, true, tc.echoes, wsproto.CloseProtocolError)
				// Answer the close as Autobahn does, and hang up.
				c.Write(wsproto.AppendFrame(nil, wsproto.Header{Fin: true, Opcode: wsproto.OpClose}, []byte{0x03, 0xea}))
				serverErr <- err
			})
			ctx := testCtx(t)
			cc := mustDial(t, "ws://"+addr+"/", &lws.DialOptions{Service: svc})
			err := echoUntilError(ctx, cc)
			var ce *lws.CloseError
			if !errors.As(err, &ce) || ce.Code != wsproto.CloseProtocolError || ce.Origin != lws.FailedLocally {
				t.Errorf("reader ended with %v, want a CloseError 1002 FailedLocally", err)
			}
			if err := <-serverErr; err != nil {
				t.Error(err)
			}
			if err := cc.Close(wsproto.CloseNormal, ""); err != ce {
				t.Errorf("Close returned %v, want the failure %v", err, ce)
			}
		})
	}
}

// TestServerFailsInStreamOrder: the server role, for the same cases: the
// echo server's callbacks run in stream order, so the echoes leave before
// the close frame with 1002.
func TestServerFailsInStreamOrder(t *testing.T) {
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{wholeEcho("echo")}})
	for _, tc := range streamOrderCases {
		t.Run(tc.name, func(t *testing.T) {
			rc := dialWS(t, svc, "echo")
			var out []byte
			for _, f := range tc.frames {
				out = append(out, f.encode(true, key1)...)
			}
			rc.Write(out)
			rc.SetReadDeadline(time.Now().Add(20 * time.Second))
			if err := checkEchoesThenClose(rc.r, false, tc.echoes, wsproto.CloseProtocolError); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestDialOversizedFrameReportedAtOnce: a frame header announcing 2 GiB,
// over the message limit, fails the connection with 1009 as soon as the
// reader reaches it, not when the close times out: the server here never
// answers the close and the close timeout is an hour. The messages before
// it are read first.
func TestDialOversizedFrameReportedAtOnce(t *testing.T) {
	gotClose := make(chan error, 1)
	hold := make(chan struct{})
	addr := rawServer(t, func(c net.Conn, r *bufio.Reader, req *http.Request) {
		c.Write([]byte(head101 + "Sec-WebSocket-Accept: " + accept(req) + "\r\n\r\n"))
		out := wsproto.AppendFrame(nil, wsproto.Header{Fin: true, Opcode: wsproto.OpText}, []byte("before"))
		out = append(out, 0x82, 127, 0, 0, 0, 0, 0x80, 0, 0, 0) // 2 GiB announced
		out = append(out, bytes.Repeat([]byte{'x'}, 1000)...)
		c.Write(out)
		b0, p, err := readFrameExact(r, true)
		if err == nil && (b0 != 0x88 || len(p) < 2 || wsproto.CloseCode(binary.BigEndian.Uint16(p)) != wsproto.CloseMessageTooBig) {
			err = fmt.Errorf("client sent %#x %q, want a close frame with 1009", b0, p)
		}
		gotClose <- err
		<-hold // never answers
	})
	defer close(hold)
	svc, err := lws.New(lws.Config{Limits: lws.Limits{CloseTimeout: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	runUntilCleanup(t, svc)
	ctx := testCtx(t)
	cc, err := lws.Dial(ctx, "ws://"+addr+"/", &lws.DialOptions{Service: svc, MaxMessageSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if op, msg, err := cc.ReadMessage(ctx); err != nil || op != lws.WriteText || string(msg) != "before" {
		t.Fatalf("first read: %v %q %v, want the text before the oversized frame", op, msg, err)
	}
	_, _, err = cc.ReadMessage(ctx)
	var ce *lws.CloseError
	if !errors.As(err, &ce) || ce.Code != wsproto.CloseMessageTooBig || ce.Origin != lws.FailedLocally {
		t.Fatalf("second read: %v, want a CloseError 1009 FailedLocally", err)
	}
	if _, _, again := cc.ReadMessage(ctx); again != err {
		t.Errorf("third read: %v, want the same error", again)
	}
	if werr := cc.WriteMessage(ctx, lws.WriteText, []byte("late")); werr != err {
		t.Errorf("write after the failure: %v, want the same error", werr)
	}
	if err := <-gotClose; err != nil {
		t.Error(err)
	}
	t.Logf("reported: %v", err)
	// The server never answers: Close would wait out the hour. The
	// service's cleanup ends the connection.
}

// TestCloseErrorOrigins: the CloseError says whose code it holds, for a
// peer's close frame (with and without a code) and an end without one.
func TestCloseErrorOrigins(t *testing.T) {
	cases := []struct {
		name   string
		script func(c net.Conn, r *bufio.Reader)
		want   lws.CloseError
	}{
		{"peer's close frame", func(c net.Conn, r *bufio.Reader) {
			c.Write(wsproto.AppendFrame(nil, wsproto.Header{Fin: true, Opcode: wsproto.OpClose}, wsproto.AppendClosePayload(nil, 4001, "bye now")))
			readFrameExact(r, true)
		}, lws.CloseError{Code: 4001, Reason: "bye now", Origin: lws.ClosedByPeer}},
		{"peer's close frame without a code", func(c net.Conn, r *bufio.Reader) {
			c.Write(wsproto.AppendFrame(nil, wsproto.Header{Fin: true, Opcode: wsproto.OpClose}, nil))
			readFrameExact(r, true)
		}, lws.CloseError{Code: wsproto.CloseNoStatus, Origin: lws.ClosedByPeer}},
		{"peer's close frame with 1008", func(c net.Conn, r *bufio.Reader) {
			c.Write(wsproto.AppendFrame(nil, wsproto.Header{Fin: true, Opcode: wsproto.OpClose}, wsproto.AppendClosePayload(nil, wsproto.ClosePolicyViolation, "write stalled")))
			readFrameExact(r, true)
		}, lws.CloseError{Code: wsproto.ClosePolicyViolation, Reason: "write stalled", Origin: lws.ClosedByPeer}},
		{"TCP closed without a close frame", func(c net.Conn, r *bufio.Reader) {},
			lws.CloseError{Code: wsproto.CloseAbnormal, Origin: lws.EndedAbnormally}},
		{"invalid UTF-8", func(c net.Conn, r *bufio.Reader) {
			c.Write(wsproto.AppendFrame(nil, wsproto.Header{Fin: true, Opcode: wsproto.OpText}, []byte{'a', 0xff}))
			readFrameExact(r, true)
		}, lws.CloseError{Code: wsproto.CloseInvalidPayload, Origin: lws.FailedLocally}},
	}
	svc := startClientService(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := rawServer(t, func(c net.Conn, r *bufio.Reader, req *http.Request) {
				c.Write([]byte(head101 + "Sec-WebSocket-Accept: " + accept(req) + "\r\n\r\n"))
				tc.script(c, r)
			})
			ctx := testCtx(t)
			cc := mustDial(t, "ws://"+addr+"/", &lws.DialOptions{Service: svc})
			_, _, err := cc.ReadMessage(ctx)
			var ce *lws.CloseError
			if !errors.As(err, &ce) || ce.Code != tc.want.Code || ce.Origin != tc.want.Origin || tc.want.Reason != "" && ce.Reason != tc.want.Reason {
				t.Fatalf("ReadMessage: %#v (%v), want %#v", ce, err, tc.want)
			}
			t.Logf("%v", err)
		})
	}
}
