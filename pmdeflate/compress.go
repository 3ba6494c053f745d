package pmdeflate

import (
	"compress/flate"
	"fmt"
)

// DefaultLevel is the compression level of a zero Level: flate.BestSpeed,
// the best ratio per CPU second for the short messages WebSockets carry.
const DefaultLevel = flate.BestSpeed

// tail is what a sync flush ends with and RFC 7692 section 7.2.1 removes
// from the end of every compressed message.
var tail = [4]byte{0x00, 0x00, 0xff, 0xff}

// deflaters holds idle deflaters per level (HuffmanOnly -2 to
// BestCompression 9), each reset and ready for a new message.
var deflaters [flate.BestCompression - flate.HuffmanOnly + 1]freeList[*deflater]

// deflater is a flate.Writer with the sink it writes to: appending to the
// buffer the caller passes for each message.
type deflater struct {
	w    *flate.Writer
	sink appendSink
}

type appendSink struct{ buf []byte }

func (s *appendSink) Write(p []byte) (int, error) {
	s.buf = append(s.buf, p...)
	return len(p), nil
}

func getDeflater(level int) *deflater {
	if d, ok := deflaters[level-flate.HuffmanOnly].get(); ok {
		return d
	}
	d := &deflater{}
	d.w, _ = flate.NewWriter(&d.sink, level) // level was checked by NewCompressor
	return d
}

func putDeflater(level int, d *deflater) {
	d.sink.buf = nil
	d.w.Reset(&d.sink)
	deflaters[level-flate.HuffmanOnly].put(d)
}

// Compressor compresses the messages one endpoint sends (RFC 7692 section
// 7.2.1). Without context takeover it holds no flate state between
// messages (a pooled deflater serves one message); with it, it keeps its
// own. Not safe for concurrent use.
type Compressor struct {
	level    int
	takeover bool
	d        *deflater // nil between messages without takeover

	// window, when not 0, is the LZ77 window the peer allows (below 32
	// KiB): the flate state restarts every window bytes of a message.
	window int
	run    int // bytes of the message compressed since the last restart
}

// NewCompressor returns a compressor for the direction d at level (a
// compress/flate level from 1 to 9, or flate.HuffmanOnly; 0 means
// DefaultLevel).
//
// compress/flate always uses a 32 KiB window. When d limits the window
// below 15 bits, the compressor works at level 1 (flate.BestSpeed) and
// restarts its flate state, after a sync flush, every 2^MaxWindowBits
// bytes of a message, so no back-reference reaches further back than the
// window allows; it keeps nothing between messages then, whatever d says
// about context takeover. At flate.HuffmanOnly, whose output has no
// back-references, any window is honoured as it is, and the compressor is
// pooled with or without context takeover, the output being the same.
func NewCompressor(d Direction, level int) (*Compressor, error) {
	if level == 0 {
		level = DefaultLevel
	}
	if err := CheckLevel(level); err != nil {
		return nil, err
	}
	c := &Compressor{level: level, takeover: !d.NoContextTakeover && level != flate.HuffmanOnly}
	if d.MaxWindowBits != 0 && d.MaxWindowBits < MaxWindowBits && level != flate.HuffmanOnly {
		c.level, c.takeover, c.window = flate.BestSpeed, false, 1<<d.MaxWindowBits
	}
	return c, nil
}

// CheckLevel reports whether level is one a Compressor accepts: 0
// (DefaultLevel), 1 to 9, or flate.HuffmanOnly.
func CheckLevel(level int) error {
	if level == 0 || level == flate.HuffmanOnly || level >= flate.BestSpeed && level <= flate.BestCompression {
		return nil
	}
	return fmt.Errorf("pmdeflate: compression level %d: want 1 to 9, or %d for Huffman only", level, flate.HuffmanOnly)
}

// Level is the compress/flate level in use.
func (c *Compressor) Level() int { return c.level }

// ContextTakeover reports whether the compressor keeps its window between
// messages.
func (c *Compressor) ContextTakeover() bool { return c.takeover }

// Append appends to dst the compressed form of p, the next fragment of a
// message (the whole message when final), and returns the extended buffer.
// final ends the message: its output loses the trailing 00 00 ff ff, and
// without context takeover the flate state goes back to the pool. The
// fragments of one message concatenate into one valid compressed message;
// an empty message compresses to the single byte 0x00. Nothing is
// allocated when dst has room.
func (c *Compressor) Append(dst, p []byte, final bool) ([]byte, error) {
	if c.d == nil {
		c.d = getDeflater(c.level)
	}
	d := c.d
	d.sink.buf = dst
	err := c.write(p)
	if err == nil {
		err = d.w.Flush()
	}
	out := d.sink.buf
	d.sink.buf = nil
	if err != nil { // cannot happen with appendSink; keep the state sane
		c.Close()
		return dst, fmt.Errorf("pmdeflate: compressing: %w", err)
	}
	if final {
		if n := len(out); n-len(dst) >= len(tail) && [4]byte(out[n-4:]) == tail {
			out = out[:n-4]
		}
		if !c.takeover {
			c.Close()
		}
	}
	return out, nil
}

// write feeds p to the flate state; with a window limit it restarts the
// state, after a sync flush, each time window bytes have gone in since the
// last restart.
func (c *Compressor) write(p []byte) error {
	w := c.d.w
	if c.window == 0 {
		_, err := w.Write(p)
		return err
	}
	for len(p) > 0 {
		if c.run == c.window {
			if err := w.Flush(); err != nil {
				return err
			}
			w.Reset(&c.d.sink)
			c.run = 0
		}
		n := min(len(p), c.window-c.run)
		if _, err := w.Write(p[:n]); err != nil {
			return err
		}
		c.run += n
		p = p[n:]
	}
	return nil
}

// Close gives the flate state back to the pool. A Compressor may be used
// again after Close; with context takeover it then starts from an empty
// window.
func (c *Compressor) Close() {
	if c.d != nil {
		putDeflater(c.level, c.d)
		c.d = nil
	}
	c.run = 0
}
