package wsproto

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"testing"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// Golden headers, several from RFC 6455 section 5.7.
var headerGolden = []struct {
	name string
	hex  string
	h    Header
}{
	{"text Hello unmasked", "8105", Header{Fin: true, Opcode: OpText, Length: 5}},
	{"text Hello masked", "818537fa213d", Header{Fin: true, Masked: true, Opcode: OpText, Mask: [4]byte{0x37, 0xfa, 0x21, 0x3d}, Length: 5}},
	{"first fragment", "0103", Header{Opcode: OpText, Length: 3}},
	{"last fragment", "8002", Header{Fin: true, Opcode: OpContinuation, Length: 2}},
	{"ping", "8905", Header{Fin: true, Opcode: OpPing, Length: 5}},
	{"empty close", "8800", Header{Fin: true, Opcode: OpClose}},
	{"125 bytes", "827d", Header{Fin: true, Opcode: OpBinary, Length: 125}},
	{"126 bytes", "827e007e", Header{Fin: true, Opcode: OpBinary, Length: 126}},
	{"256 bytes", "827e0100", Header{Fin: true, Opcode: OpBinary, Length: 256}},
	{"65535 bytes", "827effff", Header{Fin: true, Opcode: OpBinary, Length: 65535}},
	{"64 KiB", "827f0000000000010000", Header{Fin: true, Opcode: OpBinary, Length: 65536}},
	{"max length masked", "82ff7fffffffffffffff01020304", Header{Fin: true, Masked: true, Opcode: OpBinary, Mask: [4]byte{1, 2, 3, 4}, Length: 1<<63 - 1}},
	{"rsv bits", "f100", Header{Fin: true, Rsv1: true, Rsv2: true, Rsv3: true, Opcode: OpText}},
	{"rsv1 compressed", "c107", Header{Fin: true, Rsv1: true, Opcode: OpText, Length: 7}},
}

func TestHeaderGolden(t *testing.T) {
	for _, tt := range headerGolden {
		want := mustHex(t, tt.hex)
		if got := tt.h.Size(); got != len(want) {
			t.Errorf("%s: Size() = %d, want %d", tt.name, got, len(want))
		}
		var buf [MaxHeaderSize]byte
		n := PutHeader(buf[:], tt.h)
		if !bytes.Equal(buf[:n], want) {
			t.Errorf("%s: PutHeader = %x, want %x", tt.name, buf[:n], want)
		}
		if got := AppendHeader([]byte{0xAA}, tt.h); !bytes.Equal(got, append([]byte{0xAA}, want...)) {
			t.Errorf("%s: AppendHeader = %x", tt.name, got)
		}
		// Every proper prefix asks for more; the whole parses; extra bytes are left.
		for i := range len(want) {
			if h, n, err := ParseHeader(want[:i]); n != 0 || err != nil || h != (Header{}) {
				t.Errorf("%s: ParseHeader(prefix %d) = %+v, %d, %v; want need more", tt.name, i, h, n, err)
			}
		}
		h, n, err := ParseHeader(append(want, 0xEE, 0xFF))
		if err != nil || n != len(want) || h != tt.h {
			t.Errorf("%s: ParseHeader = %+v, %d, %v; want %+v, %d", tt.name, h, n, err, tt.h, len(want))
		}
	}
}

func TestParseHeaderErrors(t *testing.T) {
	tests := []struct {
		name string
		hex  string
	}{
		{"reserved opcode 3", "8300"},
		{"reserved opcode 7", "0700"},
		{"reserved opcode 11", "8b00"},
		{"reserved opcode 15", "8f80"},
		{"fragmented ping", "0900"},
		{"fragmented close", "0800"},
		{"fragmented pong", "0a00"},
		{"ping 126", "897e"},
		{"close 127", "88ff"},
		{"pong 126 masked", "8afe"},
		{"64-bit top bit", "827f8000000000000000"},
		{"64-bit all ones, mask key missing", "82ffffffffffffffffff"},
	}
	for _, tt := range tests {
		b := mustHex(t, tt.hex)
		_, n, err := ParseHeader(b)
		var pe *ProtocolError
		if !errors.As(err, &pe) || pe.Code != CloseProtocolError || n != 0 {
			t.Errorf("%s: ParseHeader(%x) = n %d, err %v; want 1002", tt.name, b, n, err)
		}
	}
}

// TestHeaderRoundTrip encodes random headers and parses them back.
func TestHeaderRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	lengths := []int64{0, 1, 125, 126, 127, 0xFFFF, 0x10000, 1<<32 + 5, 1<<63 - 1}
	for range 10000 {
		h := Header{
			Fin: r.IntN(2) == 0, Rsv1: r.IntN(2) == 0, Rsv2: r.IntN(2) == 0, Rsv3: r.IntN(2) == 0,
			Masked: r.IntN(2) == 0,
			Opcode: []Opcode{OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong}[r.IntN(6)],
		}
		if r.IntN(2) == 0 {
			h.Length = lengths[r.IntN(len(lengths))]
		} else {
			h.Length = r.Int64N(1 << uint(r.IntN(63)))
		}
		if h.Opcode.IsControl() {
			h.Fin = true
			h.Length %= MaxControlPayload + 1
		}
		if h.Masked {
			h.Mask = [4]byte{byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32()), byte(r.Uint32())}
		}
		var buf [MaxHeaderSize]byte
		n := PutHeader(buf[:], h)
		if n != h.Size() {
			t.Fatalf("PutHeader(%+v) wrote %d bytes, Size() = %d", h, n, h.Size())
		}
		got, gn, err := ParseHeader(buf[:n])
		if err != nil || gn != n || got != h {
			t.Fatalf("round trip of %+v: got %+v, %d, %v", h, got, gn, err)
		}
	}
}

func TestAppendFrame(t *testing.T) {
	// RFC 6455 section 5.7: a masked "Hello".
	h := Header{Fin: true, Masked: true, Opcode: OpText, Mask: [4]byte{0x37, 0xfa, 0x21, 0x3d}}
	payload := []byte("Hello")
	got := AppendFrame(nil, h, payload)
	if want := mustHex(t, "818537fa213d7f9f4d5158"); !bytes.Equal(got, want) {
		t.Errorf("AppendFrame = %x, want %x", got, want)
	}
	if string(payload) != "Hello" {
		t.Errorf("AppendFrame modified its payload: %q", payload)
	}
	got = AppendFrame([]byte{1}, Header{Fin: true, Opcode: OpPing}, payload)
	if want := mustHex(t, "01890548656c6c6f"); !bytes.Equal(got, want) {
		t.Errorf("AppendFrame = %x, want %x", got, want)
	}
}
