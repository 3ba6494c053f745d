package pmdeflate

import (
	"compress/flate"
	"errors"
	"io"

	"github.com/lws-go/lws/wsproto"
)

// Errors a peer causes while a message inflates. Both are
// [*wsproto.ProtocolError]s carrying the close code to send.
var (
	// ErrTooBig: the message inflates to more than the limit (1009).
	ErrTooBig = &wsproto.ProtocolError{Code: wsproto.CloseMessageTooBig, Reason: "decompressed message larger than allowed"}
	// ErrCorrupt: the message is not valid DEFLATE data (1007).
	ErrCorrupt = &wsproto.ProtocolError{Code: wsproto.CloseInvalidPayload, Reason: "compressed message does not inflate"}
)

// inflaters holds idle flate readers; they are borrowed for one message.
var inflaters freeList[io.ReadCloser]

// source feeds one compressed message and then the 00 00 ff ff that RFC
// 7692 section 7.2.2 appends before inflating. It is an io.ByteReader, so
// flate reads exactly what it needs and adds no buffer of its own.
type source struct {
	msg  []byte
	off  int // into msg, then len(msg)+i into tail
	size int // len(msg) + len(tail)
}

func (s *source) reset(msg []byte) { *s = source{msg: msg, size: len(msg) + len(tail)} }

func (s *source) ReadByte() (byte, error) {
	switch {
	case s.off < len(s.msg):
		s.off++
		return s.msg[s.off-1], nil
	case s.off < s.size:
		s.off++
		return tail[s.off-1-len(s.msg)], nil
	}
	return 0, io.EOF
}

func (s *source) Read(p []byte) (int, error) {
	n := 0
	if s.off < len(s.msg) {
		n = copy(p, s.msg[s.off:])
		s.off += n
	}
	for n < len(p) && s.off < s.size {
		p[n] = tail[s.off-len(s.msg)]
		s.off++
		n++
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

// Decompressor inflates the messages one endpoint receives (RFC 7692
// section 7.2.2). With the peer's context takeover it keeps the last window
// of inflated bytes between messages to prime the next one; otherwise it
// holds nothing between messages. Not safe for concurrent use.
type Decompressor struct {
	takeover bool
	window   int    // 1 << MaxWindowBits of the peer
	hist     []byte // with takeover: the inflated bytes of the recent past, at most 2*window
	src      source
	fr       io.ReadCloser // borrowed from inflaters for one message
	limit    int64
	n        int64 // inflated bytes of the current message
	done     bool
}

// NewDecompressor returns a decompressor for the direction d, as the peer
// compresses.
func NewDecompressor(d Direction) *Decompressor {
	return &Decompressor{takeover: !d.NoContextTakeover, window: 1 << windowBits(d.MaxWindowBits), done: true}
}

// Reset starts inflating one whole compressed message: msg is the payload
// of its frames concatenated, without the tail. limit caps the inflated size
// (0 for none); Read fails with ErrTooBig as soon as the output would pass
// it. msg must stay unchanged until Read returns io.EOF or an error, or
// until End.
func (d *Decompressor) Reset(msg []byte, limit int64) {
	d.End()
	d.src.reset(msg)
	var dict []byte
	if d.takeover && len(d.hist) > 0 {
		dict = d.hist[max(0, len(d.hist)-d.window):]
	}
	if fr, ok := inflaters.get(); ok {
		fr.(flate.Resetter).Reset(&d.src, dict)
		d.fr = fr
	} else {
		d.fr = flate.NewReaderDict(&d.src, dict)
	}
	d.limit, d.n, d.done = limit, 0, false
}

// Read inflates the next bytes of the message into p. It returns io.EOF
// when the message is complete (possibly with the last bytes), ErrTooBig
// once the message inflates past the limit, ErrCorrupt for data that does
// not inflate. After io.EOF or an error the flate state is back in its pool.
func (d *Decompressor) Read(p []byte) (int, error) {
	if d.done {
		return 0, io.EOF
	}
	if d.limit > 0 {
		// Ask for at most one byte past the limit: a bomb is caught after
		// limit+1 bytes, whatever the size of p.
		if room := d.limit - d.n + 1; int64(len(p)) > room {
			p = p[:room]
		}
	}
	n, err := d.fr.Read(p)
	d.n += int64(n)
	if d.limit > 0 && d.n > d.limit {
		d.End()
		return 0, ErrTooBig
	}
	if d.takeover && n > 0 {
		d.remember(p[:n])
	}
	switch {
	case err == nil:
		if n == 0 && d.src.off >= d.src.size {
			// Nothing more can come from consumed input.
			d.End()
			return 0, io.EOF
		}
		return n, nil
	case err == io.EOF, errors.Is(err, io.ErrUnexpectedEOF) && d.src.off >= d.src.size:
		// io.EOF: a final block ended the stream. ErrUnexpectedEOF after
		// the whole input and its tail: the data ended at the sync flush,
		// which is how a message ends.
		d.End()
		return n, io.EOF
	default:
		d.End()
		return n, ErrCorrupt
	}
}

// End stops the current message, if any, and gives the flate state back to
// the pool. The window kept for context takeover stays.
func (d *Decompressor) End() {
	d.done = true
	if d.fr != nil {
		inflaters.put(d.fr)
		d.fr = nil
	}
	d.src = source{}
}

// remember appends inflated bytes to the history kept for context
// takeover, sliding it so it never holds more than 2*window bytes.
func (d *Decompressor) remember(p []byte) {
	w := d.window
	if len(p) >= w {
		p = p[len(p)-w:]
		d.hist = d.hist[:0]
	}
	if len(d.hist)+len(p) > 2*w { // slide: keep the last w-len(p) bytes
		keep := min(len(d.hist), w-len(p))
		d.hist = d.hist[:copy(d.hist, d.hist[len(d.hist)-keep:])]
	}
	if need := len(d.hist) + len(p); need > cap(d.hist) {
		// Grow as messages need it, never past 2*window.
		grown := make([]byte, len(d.hist), min(2*w, max(need, 2*cap(d.hist))))
		copy(grown, d.hist)
		d.hist = grown
	}
	d.hist = append(d.hist, p...)
}

// HistoryBytes is the memory held between messages for context takeover.
func (d *Decompressor) HistoryBytes() int { return cap(d.hist) }

// AppendMessage inflates the whole message msg (without its tail) and
// appends it to dst, failing with ErrTooBig past limit inflated bytes
// (0: no limit). A convenience over Reset and Read for callers that want
// the message in one buffer.
func (d *Decompressor) AppendMessage(dst, msg []byte, limit int64) ([]byte, error) {
	d.Reset(msg, limit)
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := d.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}
