package lws_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/pmdeflate"
	"github.com/lws-go/lws/wsproto"
)

// dialDeflate completes a handshake offering the Sec-WebSocket-Extensions
// value ext and returns the connection and the server's answer to it.
func dialDeflate(t testing.TB, svc *lws.Service, ext string) (*rawConn, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", svc.Addr().String(), 10*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	req := "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n"
	if ext != "" {
		req += "Sec-WebSocket-Extensions: " + ext + "\r\n"
	}
	if _, err := c.Write([]byte(req + "\r\n")); err != nil {
		t.Fatal(err)
	}
	rc := &rawConn{Conn: c, r: bufio.NewReader(c)}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(rc.r, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	c.SetReadDeadline(time.Time{})
	return rc, strings.Join(resp.Header.Values("Sec-WebSocket-Extensions"), ", ")
}

func deflateEcho(reassemble bool, comp *lws.Compression) *lws.Protocol {
	p := echoProtocol("echo")
	p.Reassemble = reassemble
	p.Compression = comp
	return p
}

// TestDeflateNegotiationOnTheWire: the 101 carries the answer pmdeflate
// chose, and nothing when compression is off or the offers are declined.
func TestDeflateNegotiationOnTheWire(t *testing.T) {
	on := startService(t, lws.Config{Protocols: []*lws.Protocol{deflateEcho(true, &lws.Compression{})}})
	off := startService(t, lws.Config{Protocols: []*lws.Protocol{deflateEcho(true, nil)}})
	takeover := startService(t, lws.Config{Protocols: []*lws.Protocol{deflateEcho(true, &lws.Compression{ContextTakeover: true, PeerNoContextTakeover: true})}})
	limit := startService(t, lws.Config{Protocols: []*lws.Protocol{deflateEcho(true, &lws.Compression{PeerMaxWindowBits: 10})}})
	badLimit := startService(t, lws.Config{Protocols: []*lws.Protocol{deflateEcho(true, &lws.Compression{PeerMaxWindowBits: 7})}})
	for _, tc := range []struct {
		svc        *lws.Service
		offer      string
		wantAnswer string
	}{
		{on, "permessage-deflate; client_max_window_bits", "permessage-deflate; server_no_context_takeover"},
		{on, "permessage-deflate; client_no_context_takeover; client_max_window_bits", "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
		{on, "permessage-deflate; server_max_window_bits=10", "permessage-deflate; server_no_context_takeover; server_max_window_bits=10"},
		{on, "permessage-deflate; bogus, permessage-deflate; client_max_window_bits=9", "permessage-deflate; server_no_context_takeover; client_max_window_bits=9"},
		{on, "permessage-deflate; server_max_window_bits", ""},
		{on, "x-webkit-deflate-frame", ""},
		{on, "permessage-deflate; a=\"", ""},
		{on, "", ""},
		{off, "permessage-deflate", ""},
		{takeover, "permessage-deflate", "permessage-deflate; client_no_context_takeover"},
		{limit, "permessage-deflate; client_max_window_bits", "permessage-deflate; server_no_context_takeover; client_max_window_bits=10"},
		{limit, "permessage-deflate; client_max_window_bits=12", "permessage-deflate; server_no_context_takeover; client_max_window_bits=10"},
		{limit, "permessage-deflate; client_max_window_bits=9", "permessage-deflate; server_no_context_takeover; client_max_window_bits=9"},
		{limit, "permessage-deflate", "permessage-deflate; server_no_context_takeover"},
		{badLimit, "permessage-deflate; client_max_window_bits", ""},
	} {
		_, got := dialDeflate(t, tc.svc, tc.offer)
		if got != tc.wantAnswer {
			t.Errorf("offer %q: answer %q, want %q", tc.offer, got, tc.wantAnswer)
		}
	}
}

// clientDeflate is the raw test client's side of the codec.
type clientDeflate struct {
	tx *pmdeflate.Compressor
	rx *pmdeflate.Decompressor
}

func newClientDeflate(t testing.TB, answer string) *clientDeflate {
	params, ok, err := pmdeflate.ClientConfig{ClientContextTakeover: true}.Accept([]string{answer})
	if err != nil || !ok {
		t.Fatalf("answer %q: %v", answer, err)
	}
	tx, err := pmdeflate.NewCompressor(params.Client(), 1)
	if err != nil {
		t.Fatal(err)
	}
	return &clientDeflate{tx: tx, rx: pmdeflate.NewDecompressor(params.Server())}
}

// compressedFrames builds a client message compressed in frames of at
// most frameSize bytes of input: RSV1 on the first frame only.
func (d *clientDeflate) compressedFrames(t testing.TB, op byte, msg []byte, frameSize int) []byte {
	var out []byte
	first := true
	for {
		n := min(frameSize, len(msg))
		fin := n == len(msg)
		z, err := d.tx.Append(nil, msg[:n], fin)
		if err != nil {
			t.Fatal(err)
		}
		b0 := byte(0)
		if first {
			b0 = op | 0x40
		}
		if fin {
			b0 |= 0x80
		}
		out = append(out, frame(b0, key1, z)...)
		msg, first = msg[n:], false
		if fin {
			return out
		}
	}
}

// readMessage reads one whole message from the server, inflating it when
// RSV1 says so; it reports whether it was compressed.
func (c *rawConn) readMessage(t testing.TB, d *clientDeflate) (op byte, msg []byte, compressed bool) {
	t.Helper()
	var wire []byte
	for {
		f, err := c.readFrame(t)
		if err != nil {
			t.Fatalf("reading a message: %v", err)
		}
		if f.op >= 8 {
			t.Fatalf("control frame %v inside a message", f)
		}
		if f.op != 0 {
			op, compressed = f.op, f.rsv&0x40 != 0
		} else if f.rsv != 0 {
			t.Fatalf("RSV bits %#x on a continuation frame", f.rsv)
		}
		wire = append(wire, f.payload...)
		if f.fin {
			break
		}
	}
	if !compressed {
		return op, wire, false
	}
	msg, err := d.rx.AppendMessage(nil, wire, 0)
	if err != nil {
		t.Fatalf("inflating the server's message: %v", err)
	}
	return op, msg, true
}

func randomPayload(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func textPayload(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "message line %d, héllo wörld € %d\n", i, i*i)
	}
	return b.Bytes()[:n]
}

// TestDeflateEcho: compressed messages of 0 bytes to 300 kB, text and
// random binary, in one frame or many, echo back compressed and whole, with
// whole-message and piecewise delivery, with and without context takeover.
func TestDeflateEcho(t *testing.T) {
	text := textPayload(300000)
	for len(text) > 0 && text[len(text)-1] >= 0x80 { // end on a whole rune
		text = text[:len(text)-1]
	}
	bin := randomPayload(300000, 1)
	// compress/flate is slow under the race detector (about 3 MB/s), so
	// messages stop at 300 kB here; the interop tests take 4 MiB through
	// Python and Node.
	for _, tc := range []struct {
		name       string
		reassemble bool
		comp       lws.Compression
		offer      string
	}{
		{"reassemble", true, lws.Compression{}, "permessage-deflate"},
		{"pieces", false, lws.Compression{}, "permessage-deflate"},
		{"takeover both ways", true, lws.Compression{ContextTakeover: true, Level: 6}, "permessage-deflate"},
		{"a 9-bit server window", false, lws.Compression{ContextTakeover: true}, "permessage-deflate; server_max_window_bits=9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			comp := tc.comp
			svc := startService(t, lws.Config{Protocols: []*lws.Protocol{deflateEcho(tc.reassemble, &comp)}})
			c, answer := dialDeflate(t, svc, tc.offer)
			d := newClientDeflate(t, answer)
			for _, m := range []struct {
				op        byte
				data      []byte
				frameSize int
			}{
				{1, nil, 1},
				{1, []byte("a"), 1},
				{2, bin[:1], 1},
				{1, text[:125], 1 << 30},
				{1, text[:70000], 1 << 30},
				{2, bin[:70000], 1 << 30},
				{1, text[:300000], 1000},
				{2, bin[:300000], 65536},
				{1, text[:125], 1 << 30},
			} {
				// Write while reading, as a real peer does: the echo of
				// a large message starts before its last frame is sent.
				wire := d.compressedFrames(t, m.op, m.data, m.frameSize)
				werr := make(chan error, 1)
				go func() { _, err := c.Write(wire); werr <- err }()
				var got []byte
				for len(got) < len(m.data) || got == nil {
					op, part, compressed := c.readMessage(t, d)
					if op != m.op || !compressed {
						t.Fatalf("%d-byte message: echo op %d compressed %v, want op %d compressed", len(m.data), op, compressed, m.op)
					}
					got = append(got, part...)
					if got == nil {
						got = []byte{}
					}
					if tc.reassemble {
						break
					}
				}
				if err := <-werr; err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, m.data) {
					t.Fatalf("%d-byte op %d message echoed as %d different bytes", len(m.data), m.op, len(got))
				}
			}
		})
	}
}

// TestDeflateThreshold: short messages go uncompressed, the rest
// compressed; a fragmented message is compressed whole.
func TestDeflateThreshold(t *testing.T) {
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{deflateEcho(true, &lws.Compression{Threshold: 100})}})
	c, answer := dialDeflate(t, svc, "permessage-deflate")
	d := newClientDeflate(t, answer)
	for _, tc := range []struct {
		size           int
		wantCompressed bool
	}{{0, false}, {99, false}, {100, true}, {5000, true}} {
		msg := textPayload(tc.size)
		c.Write(frame(0x81, key1, msg))
		_, got, compressed := c.readMessage(t, d)
		if compressed != tc.wantCompressed || !bytes.Equal(got, msg) {
			t.Errorf("%d bytes: compressed %v (want %v), intact %v", tc.size, compressed, tc.wantCompressed, bytes.Equal(got, msg))
		}
	}
}

// TestDeflateFragmentedSend: a message written in fragments with
// WriteNoFin is one compressed message with RSV1 on its first frame only.
func TestDeflateFragmentedSend(t *testing.T) {
	p := &lws.Protocol{
		Name:        "frag",
		Compression: &lws.Compression{Threshold: 1 << 20},
		OnEstablished: func(c *lws.Conn) {
			c.Write([]byte("first "), lws.WriteText|lws.WriteNoFin)
			c.Write(nil, lws.WriteContinuation|lws.WriteNoFin)
			c.Write([]byte("second "), lws.WriteContinuation|lws.WriteNoFin)
			c.Write([]byte("last"), lws.WriteContinuation)
			c.Write([]byte("short, so not compressed"), lws.WriteText)
		},
	}
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{p}})
	c, answer := dialDeflate(t, svc, "permessage-deflate")
	d := newClientDeflate(t, answer)
	op, msg, compressed := c.readMessage(t, d)
	if op != 1 || !compressed || string(msg) != "first second last" {
		t.Fatalf("got op %d compressed %v %q", op, compressed, msg)
	}
	if _, msg, compressed = c.readMessage(t, d); compressed || string(msg) != "short, so not compressed" {
		t.Fatalf("got compressed %v %q", compressed, msg)
	}
}

// TestDeflateFailures: what a peer can get wrong ends in the right close
// code.
func TestDeflateFailures(t *testing.T) {
	bomb := func(d *clientDeflate) []byte {
		z, _ := d.tx.Append(nil, make([]byte, 1<<20), true)
		return frame(0x82|0x40, key1, z)
	}
	for _, tc := range []struct {
		name       string
		comp       *lws.Compression
		reassemble bool
		maxMsg     int64
		wire       func(d *clientDeflate) []byte
		want       int
	}{
		{"RSV1 without negotiation", nil, true, 0, func(*clientDeflate) []byte { return frame(0x81|0x40, key1, []byte{0}) }, 1002},
		{"RSV1 on a continuation", &lws.Compression{}, true, 0, func(*clientDeflate) []byte {
			return append(frame(0x01, key1, []byte("ab")), frame(0x80|0x40, key1, []byte("c"))...)
		}, 1002},
		{"RSV1 on a ping", &lws.Compression{}, true, 0, func(*clientDeflate) []byte { return frame(0x89|0x40, key1, nil) }, 1002},
		{"not DEFLATE", &lws.Compression{}, true, 0, func(*clientDeflate) []byte { return frame(0x82|0x40, key1, []byte{0xff, 0xff, 0xff}) }, 1007},
		{"bad UTF-8 inside", &lws.Compression{}, false, 0, func(d *clientDeflate) []byte {
			z, _ := d.tx.Append(nil, append(textPayload(50000), 0xc3, 0x28), true)
			return frame(0x81|0x40, key1, z)
		}, 1007},
		{"UTF-8 cut at the end", &lws.Compression{}, true, 0, func(d *clientDeflate) []byte {
			z, _ := d.tx.Append(nil, []byte("abc\xe2\x82"), true)
			return frame(0x81|0x40, key1, z)
		}, 1007},
		{"bomb, reassembled", &lws.Compression{}, true, 64 << 10, bomb, 1009},
		{"bomb, pieces", &lws.Compression{}, false, 64 << 10, bomb, 1009},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := deflateEcho(tc.reassemble, tc.comp)
			p.MaxMessageSize = tc.maxMsg
			svc := startService(t, lws.Config{Protocols: []*lws.Protocol{p}})
			offer := ""
			if tc.comp != nil {
				offer = "permessage-deflate"
			}
			c, answer := dialDeflate(t, svc, offer)
			var d *clientDeflate
			if answer != "" {
				d = newClientDeflate(t, answer)
			}
			c.Write(tc.wire(d))
			if code, reason := c.expectClose(t); code != tc.want {
				t.Fatalf("close %d %q, want %d", code, reason, tc.want)
			}
		})
	}
}

// TestDeflateBombAllocatesLittle: refusing 1 MiB-of-zeros messages under
// a 64 KiB cap allocates far less than the bombs would inflate to.
func TestDeflateBombAllocatesLittle(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's instrumentation allocates; this runs in the non-race pass of make test")
	}
	p := deflateEcho(true, &lws.Compression{})
	p.MaxMessageSize = 64 << 10
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{p}})
	c, answer := dialDeflate(t, svc, "permessage-deflate")
	d := newClientDeflate(t, answer)
	z, _ := d.tx.Append(nil, make([]byte, 1<<20), true)
	bomb := frame(0x82|0x40, key1, z)
	c.Write(bomb)
	c.expectClose(t) // warm the pools
	const rounds = 10
	conns := make([]*rawConn, rounds)
	for i := range conns {
		conns[i], _ = dialDeflate(t, svc, "permessage-deflate")
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, c := range conns {
		c.Write(bomb)
		if code, _ := c.expectClose(t); code != 1009 {
			t.Fatalf("bomb closed with %d, want 1009", code)
		}
	}
	runtime.ReadMemStats(&after)
	per := (after.TotalAlloc - before.TotalAlloc) / rounds
	t.Logf("a %d-byte frame inflating to 1 MiB: refused with 1009 after %d bytes allocated (whole process)", len(bomb), per)
	if per > 400<<10 {
		t.Errorf("each refused bomb allocated %d bytes, want well under the 1 MiB it inflates to", per)
	}
}

// TestDeflateDialBothRoles: our client (Dial with Compression) against our
// server: both directions compressed, and the parameters agree.
func TestDeflateDialBothRoles(t *testing.T) {
	agreed := make(chan string, 4)
	p := deflateEcho(true, &lws.Compression{PeerNoContextTakeover: true})
	p.OnEstablished = func(c *lws.Conn) {
		params, ok := c.Deflate()
		agreed <- fmt.Sprint(ok, " ", params)
	}
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{p}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, comp := range []*lws.Compression{{}, {ContextTakeover: true, Level: 5}} {
		cc, err := lws.Dial(ctx, "ws://"+svc.Addr().String()+"/", &lws.DialOptions{Compression: comp})
		if err != nil {
			t.Fatal(err)
		}
		want := "true permessage-deflate; server_no_context_takeover; client_no_context_takeover"
		if got := <-agreed; got != want {
			t.Errorf("server agreed %q, want %q", got, want)
		}
		for _, msg := range [][]byte{{}, textPayload(100), randomPayload(200000, 3), textPayload(300000)} {
			op := lws.WriteBinary
			if err := cc.WriteMessage(ctx, op, msg); err != nil {
				t.Fatal(err)
			}
			gotOp, got, err := cc.ReadMessage(ctx)
			if err != nil || gotOp != op || !bytes.Equal(got, msg) {
				t.Fatalf("%d bytes: echo op %v, %d bytes, %v", len(msg), gotOp, len(got), err)
			}
		}
		cc.Close(wsproto.CloseNormal, "")
	}
}

// TestDeflateClientRefusesBadAnswers: a server answer RFC 7692 says must
// fail the connection fails Dial with a HandshakeError.
func TestDeflateClientRefusesBadAnswers(t *testing.T) {
	for _, tc := range []struct {
		comp   lws.Compression
		answer string
	}{
		{lws.Compression{}, "permessage-deflate; client_max_window_bits"}, // a response needs the value
		{lws.Compression{}, "permessage-deflate; server_max_window_bits=7"},
		{lws.Compression{}, "permessage-deflate; foo"},
		{lws.Compression{}, "permessage-deflate, permessage-deflate"},
		{lws.Compression{}, "x-unknown"},
		{lws.Compression{PeerNoContextTakeover: true}, "permessage-deflate"},
		{lws.Compression{PeerMaxWindowBits: 10}, "permessage-deflate"},
		{lws.Compression{PeerMaxWindowBits: 10}, "permessage-deflate; server_max_window_bits=11"},
		{lws.Compression{PeerMaxWindowBits: 16}, "permessage-deflate"}, // not offered: the config is invalid
	} {
		answer := tc.answer
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			req, err := http.ReadRequest(bufio.NewReader(c))
			if err != nil {
				return
			}
			fmt.Fprintf(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\nSec-WebSocket-Extensions: %s\r\n\r\n",
				wsproto.AcceptKey(req.Header.Get("Sec-WebSocket-Key")), answer)
			c.Read(make([]byte, 1)) // until the client gives up
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		cc, err := lws.Dial(ctx, "ws://"+ln.Addr().String()+"/", &lws.DialOptions{Compression: &tc.comp})
		cancel()
		ln.Close()
		var he *lws.HandshakeError
		if !errors.As(err, &he) {
			if cc != nil {
				cc.Close(wsproto.CloseNormal, "")
			}
			t.Errorf("answer %q: Dial returned %v, want a HandshakeError", answer, err)
			continue
		}
		t.Logf("answer %q refused: %v", answer, err)
	}
}

// TestDeflateClientAcceptsEveryAnswer: a client made by Dial offers
// client_max_window_bits and takes every valid combination of the four
// parameters in a server's answer (RFC 7692 section 7); then compressed
// messages flow both ways under the agreed parameters: the server's,
// compressed by a pmdeflate.Compressor for its direction, read whole by
// the client; the client's echo inflated by the server's side with RSV1
// set.
func TestDeflateClientAcceptsEveryAnswer(t *testing.T) {
	msgs := [][]byte{textPayload(3000), textPayload(3000), randomPayload(70000, 9), {}}
	for _, snct := range []bool{false, true} {
		for _, cnct := range []bool{false, true} {
			for _, smwb := range []int{0, 8, 12, 15} {
				for _, cmwb := range []int{0, 8, 12, 15} {
					answer := pmdeflate.Params{ServerNoContextTakeover: snct, ClientNoContextTakeover: cnct,
						ServerMaxWindowBits: smwb, ClientMaxWindowBits: cmwb}.String()
					t.Run(answer, func(t *testing.T) {
						clientDeflateAnswer(t, answer, msgs)
					})
				}
			}
		}
	}
}

func clientDeflateAnswer(t *testing.T, answer string, msgs [][]byte) {
	errc := make(chan error, 1)
	addr := rawServer(t, func(c net.Conn, r *bufio.Reader, req *http.Request) {
		// The connection stays open until the client closes it.
		defer func() {
			for {
				if op, _, _ := readClientFrame(t, r); op == wsproto.OpClose || t.Failed() {
					return
				}
			}
		}()
		errc <- func() error {
			if got, want := req.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate; client_max_window_bits"; got != want {
				return fmt.Errorf("offer %q, want %q", got, want)
			}
			fmt.Fprintf(c, head101+"Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Extensions: %s\r\n\r\n", accept(req), answer)
			params, _, err := pmdeflate.ClientConfig{ClientContextTakeover: true}.Accept([]string{answer})
			if err != nil {
				return err
			}
			tx, _ := pmdeflate.NewCompressor(params.Server(), 0)
			defer tx.Close()
			rx := pmdeflate.NewDecompressor(params.Client())
			for _, m := range msgs {
				z, _ := tx.Append(nil, m, true)
				c.Write(wsproto.AppendFrame(nil, wsproto.Header{Fin: true, Rsv1: true, Opcode: wsproto.OpBinary, Length: int64(len(z))}, z))
			}
			for i, m := range msgs {
				b0, err := r.Peek(1)
				if err != nil {
					return err
				}
				rsv1 := b0[0]&0x40 != 0
				op, payload, _ := readClientFrame(t, r)
				if op != wsproto.OpBinary || !rsv1 {
					return fmt.Errorf("echo %d: opcode %v, RSV1 %v: want a compressed binary message", i, op, rsv1)
				}
				got, err := rx.AppendMessage(nil, payload, 0)
				if err != nil || !bytes.Equal(got, m) {
					return fmt.Errorf("echo %d: inflated %d bytes of %d (%v)", i, len(got), len(m), err)
				}
			}
			return nil
		}()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cc, err := lws.Dial(ctx, "ws://"+addr+"/", &lws.DialOptions{Compression: &lws.Compression{ContextTakeover: true}})
	if err != nil {
		select {
		case serr := <-errc:
			t.Fatalf("Dial: %v (server: %v)", err, serr)
		case <-ctx.Done():
			t.Fatalf("Dial: %v", err)
		}
	}
	defer cc.Close(wsproto.CloseNormal, "")
	for i, m := range msgs {
		op, got, err := cc.ReadMessage(ctx)
		if err != nil || op != lws.WriteBinary || !bytes.Equal(got, m) {
			t.Fatalf("message %d: %v, %d bytes of %d, %v", i, op, len(got), len(m), err)
		}
		if err := cc.WriteMessage(ctx, op, got); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}
