//go:build linux

package lws_test

// The stress test's other client ends: Dial clients (ClientConn), with
// WriteMessage goroutines and a reader that is slow or stalls now and
// then; and raw peers written here on net.Conn (and crypto/tls), which
// fragment their messages at random, put PINGs between fragments, cut
// their byte stream into random writes and check every frame the server
// sends: unmasked, no RSV bit, no data after a close.

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/wsproto"
)

// dialConn is a Dial end's ClientConn once Dial returned.
func (e *end) dialConn() *lws.ClientConn {
	e.sc.failMu.Lock()
	defer e.sc.failMu.Unlock()
	return e.cc
}

// recordEnd records how a Dial or raw connection ended, once: the first
// outcome seen wins.
func (e *end) recordEnd(code int, reason string) {
	e.sc.failMu.Lock()
	first := !e.isEnded()
	if first {
		e.code, e.reason = code, reason
		close(e.ended)
	}
	e.sc.failMu.Unlock()
	if first {
		e.checkCode()
	}
}

// dial opens a Dial end's connection and starts its reader.
func (sc *scenario) dial(e *end, opts *lws.DialOptions, seed uint64) {
	cc, err := lws.Dial(sc.ctx, sc.url(e.pair.id), opts)
	if err != nil {
		if sc.ctx.Err() == nil {
			sc.fail(fmt.Errorf("%v: Dial: %w", e, err))
		}
		return
	}
	sc.failMu.Lock()
	e.cc = cc
	sc.failMu.Unlock()
	close(e.established)
	sc.goTask(func() { sc.dialReader(e, cc, seed) })
}

// dialReader reads a Dial end's messages, slowly now and then.
func (sc *scenario) dialReader(e *end, cc *lws.ClientConn, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 17))
	for {
		op, msg, err := cc.ReadMessage(sc.ctx)
		if err != nil {
			var ce *lws.CloseError
			if errors.As(err, &ce) {
				e.recordEnd(int(ce.Code), ce.Reason)
			}
			return
		}
		if _, err := e.rx.receive(op == lws.WriteBinary, msg); err != nil {
			sc.fail(fmt.Errorf("%v: %w", e, err))
			return
		}
		slowReader(sc, r)
	}
}

// slowReader sleeps after a message now and then, rarely long: a reader
// that does not keep up, or stalls.
func slowReader(sc *scenario, r *rand.Rand) {
	if r.Float64() >= sc.p.slowReaders {
		return
	}
	d := time.Duration(r.IntN(3000)) * time.Microsecond
	if r.IntN(20) == 0 {
		d = time.Duration(20+r.IntN(200)) * time.Millisecond
	}
	sleepCtx(sc.ctx, d) // the reader's random slowness
}

// startDial starts a Dial end's WriteMessage goroutines.
func (sc *scenario) startDial(e *end) {
	cc := e.dialConn()
	for _, s := range e.senders() {
		seed := sc.r.Uint64()
		sc.goTask(func() {
			r := rand.New(rand.NewPCG(seed, 19))
			for seq := uint32(0); int(seq) < s.total; seq++ {
				p := s.plan(sc, seq)
				op := lws.WriteText
				if p.binary {
					op = lws.WriteBinary
				}
				if err := cc.WriteMessage(sc.ctx, op, makeMessage(p, s.id, seq)); err != nil {
					sc.endedEarly(e, "WriteMessage", err)
					return
				}
				s.accepted()
				if !pace(sc.ctx, r, 0.3) {
					return
				}
			}
		})
	}
}

// closeDial closes a Dial end with code and records the outcome unless
// the reader saw the server's close first.
func (sc *scenario) closeDial(e *end, code int, reason string) {
	err := e.dialConn().Close(wsproto.CloseCode(code), reason)
	var ce *lws.CloseError
	switch {
	case err == nil:
		e.recordEnd(code, reason)
	case errors.As(err, &ce):
		e.recordEnd(int(ce.Code), ce.Reason)
	default:
		sc.fail(fmt.Errorf("%v: Close: %w", e, err))
	}
}

// releaseDials closes every Dial client (a no-op for those closed already)
// so the services they hold are released.
func (sc *scenario) releaseDials() {
	for _, pr := range sc.pairs {
		if cc := pr.client.dialConn(); cc != nil {
			cc.Close(wsproto.CloseNormal, "")
		}
	}
}

// rawPeer is a raw client end.
type rawPeer struct {
	e   *end
	rng *rand.Rand // the writer's

	conn net.Conn     // TCP, or TLS over it
	tcp  *net.TCPConn // for an abrupt drop
	br   *bufio.Reader

	pongs    chan []byte   // PING payloads the reader saw, for the writer to answer
	closeReq chan [2]any   // a close frame to send: code, reason
	gone     chan struct{} // closed when the reader has ended
	dropOnce sync.Once
}

// connect opens the TCP (and TLS) connection, does the opening handshake
// and starts the reader.
func (r *rawPeer) connect() {
	e, sc := r.e, r.e.sc
	r.pongs, r.closeReq, r.gone = make(chan []byte, 16), make(chan [2]any, 1), make(chan struct{})
	fail := func(err error) {
		if sc.ctx.Err() == nil {
			sc.fail(fmt.Errorf("%v: %w", e, err))
		}
	}
	d := net.Dialer{Timeout: 30 * time.Second}
	c, err := d.DialContext(sc.ctx, "tcp", sc.svc[sideServer].Addr().String())
	if err != nil {
		fail(err)
		return
	}
	r.tcp = c.(*net.TCPConn)
	r.conn = c
	if sc.tlsClient != nil {
		tc := tls.Client(c, sc.tlsClient)
		if err := tc.HandshakeContext(sc.ctx); err != nil {
			c.Close()
			fail(fmt.Errorf("TLS handshake: %w", err))
			return
		}
		r.conn = tc
	}
	req := fmt.Sprintf("GET /stress?pair=%d HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: stress\r\n\r\n", e.pair.id, testKey)
	if _, err := io.WriteString(r.conn, req); err != nil {
		r.conn.Close()
		fail(err)
		return
	}
	r.br = bufio.NewReaderSize(r.conn, 1+r.rng.IntN(64<<10))
	resp, err := http.ReadResponse(r.br, nil)
	if err != nil || resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" ||
		resp.Header.Get("Sec-WebSocket-Extensions") != "" {
		r.conn.Close()
		fail(fmt.Errorf("handshake: %v %v", resp, err))
		return
	}
	readerSeed := r.rng.Uint64()
	sc.goTask(func() { r.read(readerSeed) })
	close(e.established)
}

// start starts the writer.
func (r *rawPeer) start() { r.e.sc.goTask(r.write) }

// close asks the writer to send a close frame.
func (r *rawPeer) close(code int, reason string) {
	select {
	case r.closeReq <- [2]any{code, reason}:
	default:
	}
}

// drop closes the socket at once, with a TCP reset when rst.
func (r *rawPeer) drop(rst bool) {
	if r.tcp == nil {
		return
	}
	r.dropOnce.Do(func() {
		if rst {
			r.tcp.SetLinger(0)
		}
		r.tcp.Close()
	})
}

// write sends the writer's messages, fragmented at random with PINGs in
// between, in random cuts of the byte stream; answers PINGs; sends the
// close frame when asked, and stops.
func (r *rawPeer) write() {
	e, sc := r.e, r.e.sc
	w := e.writer
	var buf []byte
	pending := 0 // messages in buf
	seq := uint32(0)
	flushAt := [...]int{0, 1 << 10, 64 << 10}[r.rng.IntN(3)]
	flush := func() bool {
		if err := r.writeCuts(buf); err != nil {
			sc.endedEarly(e, "raw write", err)
			return false
		}
		buf = buf[:0]
		for ; pending > 0; pending-- {
			w.accepted()
		}
		return true
	}
	for {
		more := w != nil && int(seq) < w.total
		if !more && len(buf) > 0 && !flush() {
			return
		}
		var wait <-chan time.Time
		if more {
			wait = closedTimeChan
		}
		select {
		case p := <-r.pongs:
			buf = appendMaskedFrame(buf, true, 0xA, p, r.rng)
		case req := <-r.closeReq:
			buf = appendMaskedFrame(buf, true, 0x8, wsproto.AppendClosePayload(nil, wsproto.CloseCode(req[0].(int)), req[1].(string)), r.rng)
			flush()
			return
		case <-r.gone:
			return
		case <-sc.ctx.Done():
			return
		case <-wait:
			p := w.plan(sc, seq)
			last := 0 // where the message's last fragment starts
			for i, f := range split(makeMessage(p, w.id, seq), r.rng) {
				if i > 0 && r.rng.IntN(8) == 0 {
					buf = appendMaskedFrame(buf, true, 0x9, []byte("raw ping"), r.rng)
				}
				op := byte(0)
				if i == 0 {
					op = 1
					if p.binary {
						op = 2
					}
				}
				last = len(buf)
				buf = appendMaskedFrame(buf, false, op, f, r.rng)
			}
			buf[last] |= 0x80 // FIN on the last fragment
			seq++
			pending++
			if len(buf) >= flushAt && !flush() {
				return
			}
			if !pace(sc.ctx, r.rng, 0.3) {
				return
			}
		}
	}
}

// closedTimeChan is always ready: the writer's "go on" case.
var closedTimeChan = func() <-chan time.Time {
	ch := make(chan time.Time)
	close(ch)
	return ch
}()

// writeCuts writes b in one write, or now and then in a few random cuts
// with a pause of the goroutine between them.
func (r *rawPeer) writeCuts(b []byte) error {
	for len(b) > 0 {
		n := len(b)
		if r.rng.IntN(4) == 0 {
			n = 1 + r.rng.IntN(len(b))
		}
		if _, err := r.conn.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
		if len(b) > 0 {
			runtime.Gosched()
		}
	}
	return nil
}

// read reads and checks the server's frames until the connection ends.
func (r *rawPeer) read(seed uint64) {
	e, sc := r.e, r.e.sc
	rr := rand.New(rand.NewPCG(seed, 23))
	defer close(r.gone)
	defer r.conn.Close()
	var msg []byte
	inMsg, msgBinary, closed := false, false, false
	for {
		fin, rsv, masked, op, payload, err := readRawFrame(r.br)
		if err != nil {
			if !closed {
				e.recordEnd(1006, err.Error())
			}
			return
		}
		bad := func(format string, args ...any) {
			sc.fail(fmt.Errorf("%v: server sent "+format, append([]any{e}, args...)...))
		}
		switch {
		case closed:
			bad("a frame (opcode %d) after its close frame", op)
			return
		case masked || rsv != 0:
			bad("a frame with mask %v, RSV bits %#x", masked, rsv)
			return
		}
		switch op {
		case 0x1, 0x2:
			if inMsg {
				bad("a new message inside a fragmented one")
				return
			}
			inMsg, msgBinary, msg = true, op == 2, append(msg[:0], payload...)
		case 0x0:
			if !inMsg {
				bad("a continuation with no message started")
				return
			}
			msg = append(msg, payload...)
		case 0x8:
			code, reason := 1005, ""
			if len(payload) >= 2 {
				code, reason = int(binary.BigEndian.Uint16(payload)), string(payload[2:])
			}
			closed = true
			e.recordEnd(code, reason)
			r.close(code, reason) // the answer, unless this end closed first
			continue
		case 0x9:
			if !fin || len(payload) > 125 {
				bad("a bad PING")
				return
			}
			select {
			case r.pongs <- payload:
			default:
			}
			continue
		case 0xA:
			continue
		default:
			bad("opcode %d", op)
			return
		}
		if !fin {
			continue
		}
		inMsg = false
		if _, err := e.rx.receive(msgBinary, msg); err != nil {
			sc.fail(fmt.Errorf("%v: %w", e, err))
			return
		}
		slowReader(sc, rr)
	}
}

// readRawFrame reads one frame.
func readRawFrame(br *bufio.Reader) (fin bool, rsv byte, masked bool, op byte, payload []byte, err error) {
	var h [2]byte
	if _, err = io.ReadFull(br, h[:]); err != nil {
		return
	}
	fin, rsv, op, masked = h[0]&0x80 != 0, h[0]&0x70, h[0]&0x0f, h[1]&0x80 != 0
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err = io.ReadFull(br, b[:]); err != nil {
			return
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err = io.ReadFull(br, b[:]); err != nil {
			return
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 4*stressMaxMessage {
		err = fmt.Errorf("a frame of %d bytes", n)
		return
	}
	if masked {
		var k [4]byte
		if _, err = io.ReadFull(br, k[:]); err != nil {
			return
		}
	}
	payload = make([]byte, n)
	_, err = io.ReadFull(br, payload)
	return
}

// appendMaskedFrame appends a client frame with a random mask.
func appendMaskedFrame(b []byte, fin bool, op byte, payload []byte, r *rand.Rand) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	b = append(b, b0)
	switch n := len(payload); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n < 65536:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	var k [4]byte
	binary.LittleEndian.PutUint32(k[:], r.Uint32())
	b = append(b, k[:]...)
	start := len(b)
	b = append(b, payload...)
	for i := range payload {
		b[start+i] ^= k[i%4]
	}
	return b
}
