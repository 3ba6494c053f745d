package lws

// permessage-deflate (RFC 7692) on a connection: the negotiation hooks of
// both handshakes, compression of the data frames the connection sends and
// inflation of the compressed messages it receives. The codec and the
// negotiation rules are in package pmdeflate; this file binds them to a
// Conn (libwebsockets' permessage-deflate extension, extension-pmd.c).

import (
	"io"
	"strings"

	"github.com/lws-go/lws/httpd"
	"github.com/lws-go/lws/logging"
	"github.com/lws-go/lws/pmdeflate"
	"github.com/lws-go/lws/wsproto"
)

// Compression turns permessage-deflate on for a protocol's connections,
// server and client (libwebsockets' permessage-deflate extension and its
// options). A nil *Protocol.Compression leaves it off; the zero value is a
// sensible configuration: level 1, every message compressed, our
// compressor pooled (no context takeover), the peer's takeover allowed.
// Every valid answer of RFC 7692 is accepted: a client offers
// client_max_window_bits, so a server may limit its window, and a server
// honours any offer (see pmdeflate.Negotiate).
//
// Memory per connection (measured in pmdeflate's TestMemoryPerConnection):
// nothing between messages for our compressor unless ContextTakeover (then
// about 1.2 MB at level 1, 0.8 MB at 2-9; nothing when the peer limits our
// window, as no context is kept then); up to 64 KiB of the peer's
// inflated data when the peer keeps its context (none with
// PeerNoContextTakeover, less with PeerMaxWindowBits); while a message is
// received, its compressed bytes (bounded by MaxMessageSize on the wire)
// and a pooled flate reader.
type Compression struct {
	// Level is the compress/flate level: 1 (flate.BestSpeed) to 9, or
	// flate.HuffmanOnly (-2); 0 means pmdeflate.DefaultLevel (1). Levels
	// above 1 cost more CPU per message, more so without context takeover
	// (each message starts by clearing the compressor's tables).
	Level int
	// Threshold is the size under which a message goes uncompressed: a
	// message whose first frame (all of it, when written in one Write or
	// Send) is shorter than Threshold bytes is sent as is. 0 compresses
	// every message. A fragmented message (WriteNoFin) is compressed
	// whole or not at all, as decided by its first frame.
	Threshold int
	// ContextTakeover keeps our compressor's window from one message to
	// the next when the peer allows it: much better ratios on small,
	// similar messages, at about 1 MB per connection. Without it a server
	// answers server_no_context_takeover and a client offers
	// client_no_context_takeover, and compressors come from a pool.
	ContextTakeover bool
	// PeerNoContextTakeover asks the peer to compress every message from
	// an empty window (a server answers client_no_context_takeover, a
	// client offers server_no_context_takeover), so no window of its
	// inflated data is kept per connection.
	PeerNoContextTakeover bool
	// PeerMaxWindowBits, from 8 to 15, asks the peer to compress with an
	// LZ77 window of at most 2^PeerMaxWindowBits bytes, so at most twice
	// that of its inflated data is kept between messages (64 KiB at 15
	// bits, the default). A client offers server_max_window_bits, and a
	// server that cannot keep to it declines compression; a server answers
	// client_max_window_bits to clients that offer it (others may use 15
	// bits). 0 asks nothing. When the peer limits our window below 15
	// bits, we compress at level 1 within that window and keep no context
	// (see pmdeflate.NewCompressor).
	PeerMaxWindowBits int
}

// deflateState is a connection's permessage-deflate state; Conn.pmd is
// nil when the extension was not negotiated.
type deflateState struct {
	params pmdeflate.Params
	tx     *pmdeflate.Compressor
	rx     *pmdeflate.Decompressor
	cfg    *Compression
	limit  int64 // most inflated bytes in one message (the message size cap)

	txOn bool   // the message being sent is compressed (decided at its first frame)
	zin  []byte // the compressed message being received (pooled)
	utf8 wsproto.UTF8Validator

	inflating inflation // the message being delivered, when active
}

// inflation is a received compressed message being inflated and delivered
// piece by piece (inflate). Reading may pause or hold between two pieces
// (PauseRx in OnReceive, output backing up): the inflation then waits
// here, and readBatch goes on with it before any newer input.
type inflation struct {
	active bool
	msg    []byte // the compressed message, read by the Decompressor (pooled)
	buf    []byte // cur's and next's storage (pooled)
	cur    []byte // the next piece to deliver: n inflated bytes
	next   []byte // the look-ahead that tells whether cur is the last piece
	n      int
	eof    bool  // the message ends with cur
	err    error // inflating past cur failed
	text   bool
	out    wsproto.Event // the event cur is delivered in
}

// inflateChunk is how many inflated bytes are handed on at a time: gathered
// for Reassemble, else RxBufferSize at most, one OnReceive piece each.
const inflateChunk = 32 << 10

// Deflate reports whether permessage-deflate was negotiated on the
// connection, and with which parameters (in libwebsockets, the wsi's
// active extensions).
func (c *Conn) Deflate() (pmdeflate.Params, bool) {
	c.assertLoop()
	if c.pmd == nil {
		return pmdeflate.Params{}, false
	}
	return c.pmd.params, true
}

// maxMessage is the message size cap of the connection's protocol.
func (c *Conn) maxMessage() int64 {
	if m := c.proto.MaxMessageSize; m > 0 {
		return m
	}
	return c.loop.svc.limits.MaxMessageSize
}

// negotiateDeflate is the server side: it picks the client's
// permessage-deflate offer to accept for protocol p, sets up c.pmd and
// returns the Sec-WebSocket-Extensions response line (nil when declined).
func (c *Conn) negotiateDeflate(req *httpd.Request, p *Protocol) []byte {
	cfg := p.Compression
	if cfg == nil {
		return nil
	}
	offers := req.Header.Values("sec-websocket-extensions")
	if len(offers) == 0 {
		return nil
	}
	if err := pmdeflate.CheckWindowBits(cfg.PeerMaxWindowBits); err != nil {
		logging.Errf("protocol %q: %v; permessage-deflate off", p.Name, err)
		return nil
	}
	params, ok, err := pmdeflate.Negotiate(offers, pmdeflate.ServerConfig{
		ServerContextTakeover:   cfg.ContextTakeover,
		ClientNoContextTakeover: cfg.PeerNoContextTakeover,
		ClientMaxWindowBits:     cfg.PeerMaxWindowBits,
	})
	if err != nil {
		c.logInfo("permessage-deflate declined: %v", err)
		return nil
	}
	if !ok {
		if logging.Enabled(logging.Ext) {
			logging.Logf(logging.Ext, "conn %v: no permessage-deflate offer accepted in %q", c.remote, offers)
		}
		return nil
	}
	if !c.setupDeflate(params, params.Server(), params.Client(), cfg) {
		return nil
	}
	line := append([]byte("Sec-WebSocket-Extensions: "), params.AppendHeader(nil)...)
	return append(line, "\r\n"...)
}

// deflateOffer is the client side's offer for protocol p, or "" when
// compression is off for it.
func deflateOffer(p *Protocol) string {
	if p == nil || p.Compression == nil {
		return ""
	}
	if err := pmdeflate.CheckWindowBits(p.Compression.PeerMaxWindowBits); err != nil {
		logging.Errf("protocol %q: %v; permessage-deflate not offered", p.Name, err)
		return ""
	}
	return clientDeflateConfig(p.Compression).Offer().String()
}

func clientDeflateConfig(cfg *Compression) pmdeflate.ClientConfig {
	return pmdeflate.ClientConfig{
		ClientContextTakeover:   cfg.ContextTakeover,
		ServerNoContextTakeover: cfg.PeerNoContextTakeover,
		ServerMaxWindowBits:     cfg.PeerMaxWindowBits,
	}
}

// acceptDeflate is the client side: it checks the server's
// Sec-WebSocket-Extensions response values against our offer and sets up
// c.pmd. The error is what must fail the connection.
func (c *Conn) acceptDeflate(values []string) error {
	if len(values) == 0 {
		return nil
	}
	if cfg := c.proto.Compression; cfg == nil || pmdeflate.CheckWindowBits(cfg.PeerMaxWindowBits) != nil {
		return &pmdeflate.Error{Input: strings.Join(values, ", "), Offset: -1, Reason: "the server accepted an extension, but none was offered"}
	}
	params, ok, err := clientDeflateConfig(c.proto.Compression).Accept(values)
	if err != nil || !ok {
		return err
	}
	c.setupDeflate(params, params.Client(), params.Server(), c.proto.Compression)
	return nil
}

// setupDeflate makes the codec for the agreed parameters: tx is how we
// compress, rx how the peer does.
func (c *Conn) setupDeflate(params pmdeflate.Params, tx, rx pmdeflate.Direction, cfg *Compression) bool {
	comp, err := pmdeflate.NewCompressor(tx, cfg.Level)
	if err != nil {
		logging.Errf("protocol %q: %v; permessage-deflate off", c.proto.Name, err)
		return false
	}
	c.pmd = &deflateState{
		params: params,
		tx:     comp,
		rx:     pmdeflate.NewDecompressor(rx),
		cfg:    cfg,
		limit:  c.maxMessage(),
	}
	if logging.Enabled(logging.Ext) {
		logging.Logf(logging.Ext, "conn %v: permessage-deflate: %s", c.remote, params)
	}
	return true
}

// deflateFrame compresses the payload of a data frame about to be queued
// when the message it belongs to is compressed, setting RSV1 on the
// message's first frame (RFC 7692 section 6). It returns the payload to
// queue and, when compressed, the pooled buffer holding it, for the caller
// to give back.
func (c *Conn) deflateFrame(h *wsproto.Header, payload []byte) (out, pooled []byte) {
	z := c.pmd
	if h.Opcode != wsproto.OpContinuation {
		z.txOn = !h.Fin || len(payload) >= z.cfg.Threshold
		h.Rsv1 = z.txOn
	}
	if !z.txOn {
		return payload, nil
	}
	buf := c.loop.getBuf(len(payload) + len(payload)>>6 + 64)
	out, err := z.tx.Append(buf, payload, h.Fin)
	if err != nil { // compress/flate fails only when its writer does; ours appends
		logging.Errf("conn %v: %v", c.remote, err)
	}
	h.Length = int64(len(out))
	return out, out
}

// gatherCompressed collects the frames of a compressed message; at its
// end it starts inflating the message (inflate), delivered as deliver
// does for plain data: in RxBufferSize pieces, or whole with Reassemble.
func (c *Conn) gatherCompressed(ev *wsproto.Event) {
	z := c.pmd
	if z == nil { // RSV1 is refused by the parser unless negotiated
		c.failProtocol(&wsproto.ProtocolError{Code: wsproto.CloseProtocolError, Reason: "compressed message without permessage-deflate"})
		return
	}
	if ev.MessageStart && z.zin == nil {
		z.zin = c.loop.getBuf(len(ev.Payload) + int(ev.FrameRemaining))
	}
	z.zin = c.appendPooled(z.zin, ev.Payload)
	if !ev.MessageEnd {
		return
	}
	msg := z.zin
	z.zin = nil
	if logging.Enabled(logging.Ext) {
		logging.Logf(logging.Ext, "conn %v: inflating a %d-byte compressed message", c.remote, len(msg))
	}
	z.rx.Reset(msg, z.limit)
	z.utf8.Reset()
	chunk := inflateChunk
	if !c.proto.Reassemble {
		chunk = min(chunk, c.proto.rxBufferSize())
	}
	buf := c.loop.getBuf(2 * chunk)[:2*chunk]
	in := &z.inflating
	*in = inflation{active: true, msg: msg, buf: buf, cur: buf[:chunk], next: buf[chunk:], text: ev.Opcode == wsproto.OpText,
		out: wsproto.Event{Type: wsproto.EventData, Opcode: ev.Opcode, MessageStart: true, FrameFin: true}}
	in.n, in.eof, in.err = fillInflated(z.rx, in.cur)
	c.inflate()
}

// inflating reports whether a compressed message's delivery waits to go
// on (readBatch goes on with it first).
func (c *Conn) inflating() bool { return c.pmd != nil && c.pmd.inflating.active }

// inflate delivers the pieces of the message being inflated until it
// ends, the connection fails or closes, or reading pauses or holds
// between two pieces. Text is checked for UTF-8 as it inflates (1007),
// the inflated size against the message cap (1009).
func (c *Conn) inflate() {
	z := c.pmd
	in := &z.inflating
	for c.state == stateWS {
		m, eof2 := 0, true
		if in.err == nil && !in.eof {
			m, eof2, in.err = fillInflated(z.rx, in.next)
		}
		if in.err != nil {
			err := in.err
			c.endInflation()
			c.failProtocol(err)
			return
		}
		last := in.eof || m == 0 && eof2
		if in.text && (!z.utf8.Write(in.cur[:in.n]) || last && !z.utf8.Complete()) {
			c.endInflation()
			c.failProtocol(&wsproto.ProtocolError{Code: wsproto.CloseInvalidPayload, Reason: "text message is not valid UTF-8"})
			return
		}
		in.out.Payload, in.out.MessageEnd = in.cur[:in.n], last
		c.deliver(&in.out)
		if last {
			break
		}
		in.out.MessageStart = false
		in.cur, in.next = in.next, in.cur
		in.n, in.eof = m, eof2
		// A large message inflates at once: what the callbacks wrote so
		// far goes out now, and past the backpressure mark reading (and
		// with it the rest of this message) holds, as it would between
		// two messages.
		if c.state == stateWS && c.unsent() > c.loop.svc.limits.WriteBufferSize/2 {
			c.relieveOutput()
		}
		if !c.canRead() {
			return
		}
	}
	c.endInflation()
}

// endInflation gives back what the inflation of a message held.
func (c *Conn) endInflation() {
	z := c.pmd
	in := &z.inflating
	if !in.active {
		return
	}
	z.rx.End()
	c.loop.putBuf(in.msg)
	c.loop.putBuf(in.buf)
	*in = inflation{}
}

// fillInflated reads inflated bytes into p until it is full, the message
// ends (eof) or inflating fails.
func fillInflated(d *pmdeflate.Decompressor, p []byte) (n int, eof bool, err error) {
	for n < len(p) {
		k, err := d.Read(p[n:])
		n += k
		if err == io.EOF {
			return n, true, nil
		}
		if err != nil {
			return n, false, err
		}
	}
	return n, false, nil
}

// releaseDeflate is closeNow's part: pooled state goes back.
func (c *Conn) releaseDeflate() {
	z := c.pmd
	if z == nil {
		return
	}
	if z.zin != nil {
		c.loop.putBuf(z.zin)
		z.zin = nil
	}
	c.endInflation()
	z.rx.End()
	z.tx.Close()
}
