package pmdeflate

import (
	"fmt"
	"testing"
)

// BenchmarkCompress and BenchmarkInflate measure the codec on a text
// message with and without context takeover.
func BenchmarkCompress(b *testing.B) {
	for _, size := range []int{128, 16 << 10} {
		msg := textMessage(0)[:size]
		for _, takeover := range []bool{false, true} {
			b.Run(fmt.Sprintf("%dB/takeover=%v", size, takeover), func(b *testing.B) {
				c, _ := NewCompressor(Direction{NoContextTakeover: !takeover}, 0)
				wire := make([]byte, 0, 2*size+64)
				b.ReportAllocs()
				b.SetBytes(int64(size))
				for i := 0; i < b.N; i++ {
					wire, _ = c.Append(wire[:0], msg, true)
				}
			})
		}
	}
}

func BenchmarkInflate(b *testing.B) {
	for _, size := range []int{128, 16 << 10} {
		msg := textMessage(0)[:size]
		for _, takeover := range []bool{false, true} {
			b.Run(fmt.Sprintf("%dB/takeover=%v", size, takeover), func(b *testing.B) {
				dir := Direction{NoContextTakeover: !takeover}
				c, _ := NewCompressor(dir, 0)
				d := NewDecompressor(dir)
				wire := make([]byte, 0, 2*size+64)
				out := make([]byte, 0, size)
				b.ReportAllocs()
				b.SetBytes(int64(size))
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					wire, _ = c.Append(wire[:0], msg, true)
					b.StartTimer()
					out, _ = d.AppendMessage(out[:0], wire, 0)
				}
			})
		}
	}
}
