package lws_test

import (
	"encoding/binary"
	"io"
	"testing"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/pmdeflate"
)

// readFrameInto reads one server frame into buf (grown as needed) without
// allocating in steady state; it returns the payload and the RSV bits.
func (c *rawConn) readFrameInto(tb testing.TB, buf []byte) ([]byte, byte) {
	if cap(buf) < 10 {
		buf = make([]byte, 0, 64)
	}
	h := buf[:10] // the header is read into buf's front, before the payload
	if _, err := io.ReadFull(c.r, h[:2]); err != nil {
		tb.Fatal(err)
	}
	n := int(h[1] & 0x7f)
	switch n {
	case 126:
		io.ReadFull(c.r, h[2:4])
		n = int(binary.BigEndian.Uint16(h[2:4]))
	case 127:
		io.ReadFull(c.r, h[2:10])
		n = int(binary.BigEndian.Uint64(h[2:10]))
	}
	b0 := h[0]
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(c.r, buf); err != nil {
		tb.Fatal(err)
	}
	return buf, b0 & 0x70
}

// compressedEchoFixture starts a compressing echo server and returns a
// function doing one round trip of a size-byte text message (sent
// precompressed, answer read into a reused buffer) and the size of the
// message on the wire.
func compressedEchoFixture(tb testing.TB, size int, takeover bool) (roundTrip func(), wire int) {
	svc := startService(tb, lws.Config{Protocols: []*lws.Protocol{deflateEcho(true, &lws.Compression{ContextTakeover: takeover})}})
	c, answer := dialDeflate(tb, svc, "permessage-deflate; client_no_context_takeover")
	params, _, _ := pmdeflate.ClientConfig{}.Accept([]string{answer})
	tx, _ := pmdeflate.NewCompressor(params.Client(), 1)
	rx := pmdeflate.NewDecompressor(params.Server())
	msg := textPayload(size)
	z, _ := tx.Append(nil, msg, true)
	req := frame(0x81|0x40, key1, z)
	buf := make([]byte, 0, 2*size+64)
	roundTrip = func() {
		if _, err := c.Write(req); err != nil {
			tb.Fatal(err)
		}
		var rsv byte
		buf, rsv = c.readFrameInto(tb, buf)
		if rsv != 0x40 {
			tb.Fatalf("echo not compressed")
		}
	}
	roundTrip()
	out, err := rx.AppendMessage(nil, buf, 0)
	if err != nil || string(out) != string(msg) {
		tb.Fatalf("echo does not inflate to the message: %v", err)
	}
	return roundTrip, len(z)
}

// BenchmarkCompressedEcho measures a compressed echo on loopback: the
// server reads, inflates, delivers the whole message, compresses and
// writes the echo. The client sends a precompressed frame and reads the
// compressed answer into a reused buffer, so allocs/op is the server's:
// none at 128 B; at 16 KiB the few of compress/flate's decoder, which
// allocates link tables for each dynamic Huffman block with codes over 9
// bits. Compare BenchmarkServerEcho for the plain path.
func BenchmarkCompressedEcho(b *testing.B) {
	for _, size := range []int{128, 16 << 10} {
		for _, takeover := range []bool{false, true} {
			name := byteSize(size) + "/pooled"
			if takeover {
				name = byteSize(size) + "/takeover"
			}
			b.Run(name, func(b *testing.B) {
				roundTrip, wire := compressedEchoFixture(b, size, takeover)
				b.ReportAllocs()
				b.SetBytes(int64(size))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					roundTrip()
				}
				b.ReportMetric(float64(wire), "wire-bytes/msg")
			})
		}
	}
}

// TestCompressedEchoAllocatesNothing: a small compressed echo makes no
// heap allocation per message in steady state, pooled or with context
// takeover.
func TestCompressedEchoAllocatesNothing(t *testing.T) {
	fdBackendOnly(t, "no allocation per message")
	if raceEnabled {
		t.Skip("the race detector's instrumentation allocates; this runs in the non-race pass of make test")
	}
	for _, takeover := range []bool{false, true} {
		roundTrip, _ := compressedEchoFixture(t, 128, takeover)
		for i := 0; i < 50; i++ {
			roundTrip()
		}
		if a := testing.AllocsPerRun(300, roundTrip); a != 0 {
			t.Errorf("takeover %v: %.2f allocations per compressed echo, want 0", takeover, a)
		}
	}
}
