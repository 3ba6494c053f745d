package pmdeflate

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// A DEFLATE decoder (RFC 1951) written for the test: compress/flate does
// not say how far back its input refers, and the window a peer allows is
// exactly that. inflateDistances inflates a message (with its tail) and
// returns the output and the longest back-reference distance.

type bitReader struct {
	b   []byte
	pos int  // next byte
	bit uint // bits of b[pos] already used
}

var errShort = errors.New("deflate stream ends early")

func (r *bitReader) bits(n uint) (uint32, error) {
	var v uint32
	for i := uint(0); i < n; i++ {
		if r.pos >= len(r.b) {
			return 0, errShort
		}
		v |= uint32(r.b[r.pos]>>r.bit&1) << i
		if r.bit++; r.bit == 8 {
			r.bit, r.pos = 0, r.pos+1
		}
	}
	return v, nil
}

// huffman is a canonical Huffman code: counts of codes per length and the
// symbols in code order.
type huffman struct {
	counts  [16]int
	symbols []int
}

func newHuffman(lengths []int) huffman {
	var h huffman
	for _, l := range lengths {
		h.counts[l]++
	}
	h.counts[0] = 0
	offs := [16]int{}
	for l := 1; l < 16; l++ {
		offs[l] = offs[l-1] + h.counts[l-1]
	}
	h.symbols = make([]int, len(lengths))
	for s, l := range lengths {
		if l != 0 {
			h.symbols[offs[l]] = s
			offs[l]++
		}
	}
	return h
}

func (h *huffman) decode(r *bitReader) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		b, err := r.bits(1)
		if err != nil {
			return 0, err
		}
		code |= int(b)
		count := h.counts[l]
		if code-count < first {
			return h.symbols[index+code-first], nil
		}
		index += count
		first = (first + count) << 1
		code <<= 1
	}
	return 0, errors.New("bad Huffman code")
}

var (
	lengthBase  = [29]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	clOrder     = [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

func fixedCodes() (lit, dist huffman) {
	l := make([]int, 288)
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	d := make([]int, 30)
	for i := range d {
		d[i] = 5
	}
	return newHuffman(l), newHuffman(d)
}

func dynamicCodes(r *bitReader) (lit, dist huffman, err error) {
	hlit, err1 := r.bits(5)
	hdist, err2 := r.bits(5)
	hclen, err3 := r.bits(4)
	if err := errors.Join(err1, err2, err3); err != nil {
		return lit, dist, err
	}
	cl := make([]int, 19)
	for i := 0; i < int(hclen)+4; i++ {
		v, err := r.bits(3)
		if err != nil {
			return lit, dist, err
		}
		cl[clOrder[i]] = int(v)
	}
	clh := newHuffman(cl)
	n := int(hlit) + 257 + int(hdist) + 1
	lengths := make([]int, 0, n)
	for len(lengths) < n {
		sym, err := clh.decode(r)
		if err != nil {
			return lit, dist, err
		}
		rep, val := 1, sym
		switch sym {
		case 16:
			if len(lengths) == 0 {
				return lit, dist, errors.New("repeat with no length")
			}
			x, err := r.bits(2)
			if err != nil {
				return lit, dist, err
			}
			rep, val = 3+int(x), lengths[len(lengths)-1]
		case 17:
			x, err := r.bits(3)
			if err != nil {
				return lit, dist, err
			}
			rep, val = 3+int(x), 0
		case 18:
			x, err := r.bits(7)
			if err != nil {
				return lit, dist, err
			}
			rep, val = 11+int(x), 0
		}
		for range rep {
			lengths = append(lengths, val)
		}
	}
	return newHuffman(lengths[:hlit+257]), newHuffman(lengths[hlit+257 : n]), nil
}

func inflateDistances(msg []byte) (out []byte, maxDist int, err error) {
	r := &bitReader{b: append(bytes.Clone(msg), tail[:]...)}
	for r.pos < len(r.b) {
		final, err1 := r.bits(1)
		typ, err2 := r.bits(2)
		if err := errors.Join(err1, err2); err != nil {
			return out, maxDist, err
		}
		var lit, dist huffman
		switch typ {
		case 0: // stored
			if r.bit != 0 {
				r.bit, r.pos = 0, r.pos+1
			}
			if r.pos+4 > len(r.b) {
				return out, maxDist, errShort
			}
			n := int(r.b[r.pos]) | int(r.b[r.pos+1])<<8
			if n^0xffff != int(r.b[r.pos+2])|int(r.b[r.pos+3])<<8 {
				return out, maxDist, errors.New("stored block length check")
			}
			r.pos += 4
			if r.pos+n > len(r.b) {
				return out, maxDist, errShort
			}
			out = append(out, r.b[r.pos:r.pos+n]...)
			r.pos += n
			if final == 1 {
				return out, maxDist, nil
			}
			continue
		case 1:
			lit, dist = fixedCodes()
		case 2:
			var err error
			if lit, dist, err = dynamicCodes(r); err != nil {
				return out, maxDist, err
			}
		default:
			return out, maxDist, errors.New("reserved block type")
		}
		for {
			sym, err := lit.decode(r)
			if err != nil {
				return out, maxDist, err
			}
			if sym < 256 {
				out = append(out, byte(sym))
				continue
			}
			if sym == 256 {
				break
			}
			sym -= 257
			if sym >= 29 {
				return out, maxDist, errors.New("bad length symbol")
			}
			x, err := r.bits(lengthExtra[sym])
			if err != nil {
				return out, maxDist, err
			}
			length := lengthBase[sym] + int(x)
			ds, err := dist.decode(r)
			if err != nil || ds >= 30 {
				return out, maxDist, fmt.Errorf("bad distance symbol %d: %v", ds, err)
			}
			x, err = r.bits(distExtra[ds])
			if err != nil {
				return out, maxDist, err
			}
			d := distBase[ds] + int(x)
			if d > len(out) {
				return out, maxDist, fmt.Errorf("distance %d before the start of the message", d)
			}
			maxDist = max(maxDist, d)
			for range length {
				out = append(out, out[len(out)-d])
			}
		}
		if final == 1 {
			return out, maxDist, nil
		}
	}
	return out, maxDist, nil
}

// jsonLines is text with the repeats of a typical JSON feed.
func jsonLines(n int) []byte {
	var b strings.Builder
	for k := 0; b.Len() < n; k++ {
		fmt.Fprintf(&b, `{"id":%d,"user":"user%d","event":"update","value":%d,"tags":["a","b"]}`+"\n", k, k%50, k*7)
	}
	return []byte(b.String()[:n])
}

// TestSmallWindowsKeptTo: for every window below 15 bits, what a
// Compressor sends refers no further back than the window, whether the
// message is compressed whole or fragment by fragment (a restart falls
// inside a fragment as between them), and it inflates to the message. The
// decoder checking it is checked first: a full-window compressor does
// refer further back on the same input.
func TestSmallWindowsKeptTo(t *testing.T) {
	far := randomBytes(3000, 7)
	msgs := map[string][]byte{
		"json":           jsonLines(70000),
		"text":           textMessage(3),
		"random":         randomBytes(20000, 5),
		"repeats far":    bytes.Repeat(far, 10), // matches only 3000 bytes back
		"repeats near":   bytes.Repeat([]byte("abcdefgh"), 5000),
		"short":          []byte("hello"),
		"empty":          {},
		"window-aligned": jsonLines(4096),
	}
	full, _ := NewCompressor(Direction{MaxWindowBits: 15}, 0)
	out, _ := full.Append(nil, msgs["repeats far"], true)
	if _, d, err := inflateDistances(out); err != nil || d < 3000 {
		t.Fatalf("the test's decoder: full window gives distance %d (%v), want at least 3000", d, err)
	}
	for bits := MinWindowBits; bits < MaxWindowBits; bits++ {
		for name, msg := range msgs {
			for _, frag := range []int{0, 1000, 333} { // 0: whole
				c, err := NewCompressor(Direction{MaxWindowBits: bits}, 6)
				if err != nil {
					t.Fatal(err)
				}
				var wire []byte
				if frag == 0 {
					wire, err = c.Append(nil, msg, true)
				} else {
					for off := 0; err == nil && (off < len(msg) || off == 0); off += frag {
						end := min(off+frag, len(msg))
						wire, err = c.Append(wire, msg[off:end], end == len(msg))
					}
				}
				if err != nil {
					t.Fatal(err)
				}
				got, d, err := inflateDistances(wire)
				if err != nil || !bytes.Equal(got, msg) {
					t.Fatalf("%d bits, %s, fragments of %d: inflated %d of %d bytes: %v", bits, name, frag, len(got), len(msg), err)
				}
				if d > 1<<bits {
					t.Fatalf("%d bits, %s, fragments of %d: a back-reference %d bytes back", bits, name, frag, d)
				}
				if c.Level() != flate.BestSpeed || c.ContextTakeover() {
					t.Fatalf("%d bits: level %d, takeover %v", bits, c.Level(), c.ContextTakeover())
				}
			}
		}
	}
}

// TestSmallWindowCompresses: a limited window still finds the repeats
// within it, unlike Huffman-only coding: a JSON feed under a 12-bit window
// compresses to a third of Huffman-only's output or less.
func TestSmallWindowCompresses(t *testing.T) {
	msg := jsonLines(65536)
	windowed, _ := NewCompressor(Direction{MaxWindowBits: 12}, 0)
	huff, _ := NewCompressor(Direction{}, flate.HuffmanOnly)
	a, _ := windowed.Append(nil, msg, true)
	b, _ := huff.Append(nil, msg, true)
	t.Logf("64 KiB of JSON lines: %d bytes with a 12-bit window, %d Huffman-only, %d bytes raw", len(a), len(b), len(msg))
	if 3*len(a) > len(b) {
		t.Errorf("12-bit window: %d bytes, Huffman-only %d: want a third or less", len(a), len(b))
	}
}
