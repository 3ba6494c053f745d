package pmdeflate

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"
)

// textMessage is the message of testdata/windows/gen.py.
func textMessage(i int) []byte {
	var b strings.Builder
	for k := 0; k < 2000; k++ {
		fmt.Fprintf(&b, "line %d of message %d: %s\n", k, i, strings.Repeat(string("abcdefghij"[k%10]), k%17))
	}
	return []byte(b.String())
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// inflateStd inflates msg as RFC 7692 says, with compress/flate directly.
func inflateStd(t *testing.T, msg []byte) []byte {
	t.Helper()
	r := flate.NewReader(io.MultiReader(bytes.NewReader(msg), bytes.NewReader(tail[:])))
	out, err := io.ReadAll(r)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("compress/flate cannot inflate our output: %v", err)
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	msgs := [][]byte{
		{},
		[]byte("a"),
		textMessage(0),
		textMessage(1),
		randomBytes(100, 1),
		randomBytes(200000, 2),
		bytes.Repeat([]byte("hello "), 10000),
		{},
		textMessage(2),
	}
	for _, level := range []int{flate.HuffmanOnly, 0, 1, 6, 9} {
		for _, noTakeover := range []bool{false, true} {
			t.Run(fmt.Sprintf("level%d/noTakeover=%v", level, noTakeover), func(t *testing.T) {
				dir := Direction{NoContextTakeover: noTakeover, MaxWindowBits: 15}
				c, err := NewCompressor(dir, level)
				if err != nil {
					t.Fatal(err)
				}
				d := NewDecompressor(dir)
				var wire, out []byte
				for i, m := range msgs {
					wire, err = c.Append(wire[:0], m, true)
					if err != nil {
						t.Fatal(err)
					}
					if noTakeover {
						if c.d != nil {
							t.Fatalf("message %d: compressor kept flate state without context takeover", i)
						}
						if got := inflateStd(t, wire); !bytes.Equal(got, m) {
							t.Fatalf("message %d: compress/flate inflates %d bytes, want %d", i, len(got), len(m))
						}
					}
					out, err = d.AppendMessage(out[:0], wire, 0)
					if err != nil {
						t.Fatalf("message %d: %v", i, err)
					}
					if !bytes.Equal(out, m) {
						t.Fatalf("message %d: inflated %d bytes, want %d", i, len(out), len(m))
					}
				}
				c.Close()
			})
		}
	}
}

func TestEmptyMessageIsOneZeroByte(t *testing.T) {
	for _, takeover := range []bool{false, true} {
		c, _ := NewCompressor(Direction{NoContextTakeover: !takeover}, 0)
		c.Append(nil, []byte("warm up"), true)
		got, _ := c.Append(nil, nil, true)
		if !bytes.Equal(got, []byte{0}) {
			t.Errorf("takeover %v: empty message compresses to % x, want 00 (RFC 7692 section 7.2.3.6)", takeover, got)
		}
	}
}

// TestFragments: a message compressed fragment by fragment is one
// compressed message.
func TestFragments(t *testing.T) {
	for _, takeover := range []bool{false, true} {
		dir := Direction{NoContextTakeover: !takeover}
		c, _ := NewCompressor(dir, 0)
		d := NewDecompressor(dir)
		for round := 0; round < 3; round++ {
			parts := [][]byte{textMessage(round)[:1000], {}, textMessage(round)[1000:30000], randomBytes(5000, uint64(round))}
			var wire, whole []byte
			for i, p := range parts {
				var err error
				if wire, err = c.Append(wire, p, i == len(parts)-1); err != nil {
					t.Fatal(err)
				}
				whole = append(whole, p...)
			}
			got, err := d.AppendMessage(nil, wire, 0)
			if err != nil || !bytes.Equal(got, whole) {
				t.Fatalf("takeover %v round %d: inflated %d bytes (%v), want %d", takeover, round, len(got), err, len(whole))
			}
		}
	}
}

// TestContextTakeoverHelps: with takeover a repeated message costs a few
// bytes; without, as much as the first time.
func TestContextTakeoverHelps(t *testing.T) {
	msg := randomBytes(2000, 9)
	for _, tc := range []struct {
		takeover bool
		ok       func(first, second int) bool
	}{
		{true, func(first, second int) bool { return second < 200 && first > 1900 }},
		{false, func(first, second int) bool { return second == first }},
	} {
		c, _ := NewCompressor(Direction{NoContextTakeover: !tc.takeover}, 0)
		a, _ := c.Append(nil, msg, true)
		b, _ := c.Append(nil, msg, true)
		if !tc.ok(len(a), len(b)) {
			t.Errorf("takeover %v: repeated 2000-byte message compressed to %d then %d bytes", tc.takeover, len(a), len(b))
		}
	}
}

// TestInflateZlibWindows inflates zlib's output for every window size from
// 9 to 15 bits (zlib raises a raw 8-bit window to 9), with and without
// context takeover (fixtures from testdata/windows/gen.py).
func TestInflateZlibWindows(t *testing.T) {
	for bits := 9; bits <= 15; bits++ {
		for _, mode := range []string{"takeover", "reset"} {
			raw, err := os.ReadFile(fmt.Sprintf("testdata/windows/w%d-%s.bin", bits, mode))
			if err != nil {
				t.Fatal(err)
			}
			d := NewDecompressor(Direction{NoContextTakeover: mode == "reset", MaxWindowBits: bits})
			buf := make([]byte, 4096) // inflate in small reads
			for i := 0; len(raw) > 0; i++ {
				n := binary.BigEndian.Uint32(raw)
				msg := raw[4 : 4+n]
				raw = raw[4+n:]
				d.Reset(msg, 1<<20)
				var got []byte
				for {
					k, err := d.Read(buf)
					got = append(got, buf[:k]...)
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatalf("w%d-%s message %d: %v", bits, mode, i, err)
					}
				}
				if !bytes.Equal(got, textMessage(i)) {
					t.Fatalf("w%d-%s message %d: inflated %d bytes, not the message", bits, mode, i, len(got))
				}
			}
			if want := 2 << bits; d.HistoryBytes() > want {
				t.Errorf("w%d-%s: history of %d bytes, want at most %d", bits, mode, d.HistoryBytes(), want)
			}
		}
	}
}

func TestFinalBlockAccepted(t *testing.T) {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, 5)
	w.Write([]byte("ends with BFINAL"))
	w.Close()
	got, err := NewDecompressor(Direction{}).AppendMessage(nil, b.Bytes(), 0)
	if err != nil || string(got) != "ends with BFINAL" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestCorruptRefused(t *testing.T) {
	for _, msg := range [][]byte{{0xff, 0xff, 0xff}, {0x07}, append(randomBytes(50, 3), 0xff)} {
		_, err := NewDecompressor(Direction{}).AppendMessage(nil, msg, 0)
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("% x: %v, want ErrCorrupt (1007)", msg, err)
		}
	}
}

// bomb is 1 MiB of zeros compressed as one message.
func bomb(t testing.TB) []byte {
	c, _ := NewCompressor(Direction{NoContextTakeover: true}, 9)
	b, err := c.Append(nil, make([]byte, 1<<20), true)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBombRefused: a 1 MiB-of-zeros message under a 64 KiB cap fails with
// 1009 after 64 KiB + 1 bytes, with little memory allocated.
func TestBombRefused(t *testing.T) {
	msg := bomb(t)
	t.Logf("1 MiB of zeros compresses to %d bytes", len(msg))
	const limit = 64 << 10
	d := NewDecompressor(Direction{})
	buf := make([]byte, 16<<10)
	run := func() (int64, error) {
		d.Reset(msg, limit)
		var total int64
		for {
			n, err := d.Read(buf)
			total += int64(n)
			if err != nil {
				return total, err
			}
		}
	}
	run() // the pool now holds a flate reader
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const rounds = 20
	for i := 0; i < rounds; i++ {
		total, err := run()
		if !errors.Is(err, ErrTooBig) || total > limit {
			t.Fatalf("bomb: %d bytes delivered, %v; want ErrTooBig (1009) within %d bytes", total, err, limit)
		}
	}
	runtime.ReadMemStats(&after)
	perBomb := (after.TotalAlloc - before.TotalAlloc) / rounds
	t.Logf("allocated %d bytes per refused bomb", perBomb)
	if perBomb > 128<<10 {
		t.Errorf("refusing a bomb allocated %d bytes, want far less than the 1 MiB it inflates to", perBomb)
	}
	// AppendMessage stops at the cap too.
	out, err := d.AppendMessage(nil, msg, limit)
	if !errors.Is(err, ErrTooBig) || cap(out) > 2*limit {
		t.Fatalf("AppendMessage: %v with a %d-byte buffer", err, cap(out))
	}
	// The exact limit passes.
	if out, err := d.AppendMessage(nil, msg, 1<<20); err != nil || len(out) != 1<<20 {
		t.Fatalf("at exactly the limit: %d bytes, %v", len(out), err)
	}
}

// TestCodecAllocatesNothing: in steady state compressing and inflating a
// message into buffers with room allocates nothing.
func TestCodecAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items; this runs in the non-race pass of make test")
	}
	msg := textMessage(0)[:4000]
	for _, takeover := range []bool{false, true} {
		dir := Direction{NoContextTakeover: !takeover}
		c, _ := NewCompressor(dir, 0)
		d := NewDecompressor(dir)
		wire := make([]byte, 0, 8000)
		out := make([]byte, 0, 8000)
		step := func() {
			var err error
			if wire, err = c.Append(wire[:0], msg, true); err != nil {
				t.Fatal(err)
			}
			if out, err = d.AppendMessage(out[:0], wire, 1<<20); err != nil || len(out) != len(msg) {
				t.Fatal(err)
			}
		}
		for i := 0; i < 20; i++ {
			step() // fill history and pools
		}
		if a := testing.AllocsPerRun(200, step); a != 0 {
			t.Errorf("takeover %v: %.1f allocations per message, want 0", takeover, a)
		}
	}
}

// TestMemoryPerConnection measures what one connection's codec holds
// between messages, the figures of the package doc.
func TestMemoryPerConnection(t *testing.T) {
	const n = 8
	gc := func() { runtime.GC(); runtime.GC() }
	// The free lists start empty and f runs once before the count: what a
	// connection borrows from them for one message is then reused, and
	// what is left is what the connections hold.
	measure := func(f func(i int) any) uint64 {
		for i := range deflaters {
			deflaters[i] = freeList[*deflater]{}
		}
		inflaters = freeList[io.ReadCloser]{}
		f(-1)
		keep := make([]any, n)
		var before, after runtime.MemStats
		gc()
		runtime.ReadMemStats(&before)
		for i := range keep {
			keep[i] = f(i)
		}
		gc()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(keep)
		return (after.HeapAlloc - before.HeapAlloc) / n
	}
	msg := textMessage(0)[:4096]
	for _, level := range []int{flate.HuffmanOnly, 1, 6} {
		takeover := measure(func(int) any {
			c, _ := NewCompressor(Direction{}, level)
			c.Append(nil, msg, true)
			return c
		})
		pooled := measure(func(int) any {
			c, _ := NewCompressor(Direction{NoContextTakeover: true}, level)
			c.Append(nil, msg, true)
			return c
		})
		t.Logf("compressor level %2d: %7d bytes per connection with context takeover, %4d without", level, takeover, pooled)
		if pooled > 1024 {
			t.Errorf("level %d: a compressor without context takeover holds %d bytes between messages", level, pooled)
		}
	}
	for _, takeover := range []bool{false, true} {
		held := measure(func(i int) any {
			d := NewDecompressor(Direction{NoContextTakeover: !takeover})
			c, _ := NewCompressor(Direction{NoContextTakeover: true}, 1)
			for j := 0; j < 3; j++ {
				w, _ := c.Append(nil, textMessage(j), true)
				d.AppendMessage(nil, w, 0)
			}
			return d
		})
		t.Logf("decompressor, peer context takeover %v: %d bytes per connection", takeover, held)
		if limit := uint64(1024); takeover {
			limit = 64<<10 + 1024
			if held > limit {
				t.Errorf("decompressor with takeover holds %d bytes, want at most %d", held, limit)
			}
		} else if held > limit {
			t.Errorf("decompressor without takeover holds %d bytes, want at most %d", held, limit)
		}
	}
}
