package wsproto

import (
	"crypto/rand"
	"encoding/binary"
)

// Mask XORs b in place with the masking key (RFC 6455 section 5.3), as if b
// started at byte offset pos of the payload; only pos mod 4 matters. It
// returns the position for the bytes that follow b, in 0..3, so a payload
// split over several buffers is masked by chaining the calls:
//
//	pos := 0
//	pos = Mask(key, pos, part1)
//	pos = Mask(key, pos, part2)
//
// Masking and unmasking are the same operation. Mask works eight bytes at a
// time whatever the alignment of b.
func Mask(key [4]byte, pos int, b []byte) int {
	pos &= 3
	if len(b) >= 8 {
		// The key rotated so that its first byte applies to b[0], repeated
		// to 8 bytes. 8 is a multiple of 4, so the rotation holds for
		// every whole word.
		k32 := uint64(key[pos]) | uint64(key[(pos+1)&3])<<8 |
			uint64(key[(pos+2)&3])<<16 | uint64(key[(pos+3)&3])<<24
		k64 := k32 | k32<<32
		for len(b) >= 32 {
			v0 := binary.LittleEndian.Uint64(b[0:8])
			v1 := binary.LittleEndian.Uint64(b[8:16])
			v2 := binary.LittleEndian.Uint64(b[16:24])
			v3 := binary.LittleEndian.Uint64(b[24:32])
			binary.LittleEndian.PutUint64(b[0:8], v0^k64)
			binary.LittleEndian.PutUint64(b[8:16], v1^k64)
			binary.LittleEndian.PutUint64(b[16:24], v2^k64)
			binary.LittleEndian.PutUint64(b[24:32], v3^k64)
			b = b[32:]
		}
		for len(b) >= 8 {
			binary.LittleEndian.PutUint64(b[:8], binary.LittleEndian.Uint64(b[:8])^k64)
			b = b[8:]
		}
	}
	for i := range b {
		b[i] ^= key[pos]
		pos = (pos + 1) & 3
	}
	return pos
}

// NewMaskKey returns a fresh masking key from crypto/rand, as RFC 6455
// section 5.3 requires of clients. It does not allocate.
func NewMaskKey() [4]byte {
	var k [4]byte
	_, _ = rand.Read(k[:]) // crypto/rand.Read never fails (Go 1.24+)
	return k
}
