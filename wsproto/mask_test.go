package wsproto

import (
	"bytes"
	"fmt"
	"testing"
)

// maskRef is the byte-by-byte definition of RFC 6455 section 5.3.
func maskRef(key [4]byte, pos int, b []byte) int {
	for i := range b {
		b[i] ^= key[(pos+i)%4]
	}
	return (pos + len(b)) % 4
}

func TestMask(t *testing.T) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	src := make([]byte, 100+8)
	for i := range src {
		src[i] = byte(i*7 + 3)
	}
	for off := range 8 { // where b starts inside its array
		for n := 0; n <= 100; n++ {
			for pos := range 4 {
				want := bytes.Clone(src[off : off+n])
				wantPos := maskRef(key, pos, want)
				buf := bytes.Clone(src)
				gotPos := Mask(key, pos, buf[off:off+n])
				if !bytes.Equal(buf[off:off+n], want) || gotPos != wantPos {
					t.Fatalf("Mask(off %d, len %d, pos %d) = %x, %d; want %x, %d", off, n, pos, buf[off:off+n], gotPos, want, wantPos)
				}
				if !bytes.Equal(buf[:off], src[:off]) || !bytes.Equal(buf[off+n:], src[off+n:]) {
					t.Fatalf("Mask(off %d, len %d, pos %d) wrote outside its slice", off, n, pos)
				}
			}
		}
	}
	// Only pos mod 4 matters.
	a, b := bytes.Clone(src), bytes.Clone(src)
	if Mask(key, 6, a) != Mask(key, 2, b) || !bytes.Equal(a, b) {
		t.Error("Mask(pos 6) differs from Mask(pos 2)")
	}
}

// TestMaskChained masks one payload in pieces of every size.
func TestMaskChained(t *testing.T) {
	key := [4]byte{1, 2, 4, 8}
	src := make([]byte, 300)
	for i := range src {
		src[i] = byte(i)
	}
	want := bytes.Clone(src)
	maskRef(key, 0, want)
	for step := 1; step <= 40; step++ {
		buf := bytes.Clone(src)
		pos := 0
		for i := 0; i < len(buf); i += step {
			pos = Mask(key, pos, buf[i:min(i+step, len(buf))])
		}
		if !bytes.Equal(buf, want) {
			t.Fatalf("chained Mask with step %d differs", step)
		}
	}
}

func TestNewMaskKey(t *testing.T) {
	seen := map[[4]byte]bool{}
	for range 64 {
		seen[NewMaskKey()] = true
	}
	if len(seen) < 60 {
		t.Errorf("64 calls of NewMaskKey gave only %d distinct keys", len(seen))
	}
	if raceEnabled {
		return // crypto/rand allocates under the race detector
	}
	if n := testing.AllocsPerRun(100, func() { _ = NewMaskKey() }); n != 0 {
		t.Errorf("NewMaskKey allocates %v times, want 0", n)
	}
}

func BenchmarkMask(b *testing.B) {
	key := [4]byte{1, 2, 3, 4}
	for _, size := range []int{16, 125, 1024, 64 << 10} {
		buf := make([]byte, size+1)
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				Mask(key, 1, buf[1:]) // unaligned on purpose
			}
		})
	}
}
