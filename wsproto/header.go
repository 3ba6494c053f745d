package wsproto

import "encoding/binary"

// Frame size limits of RFC 6455 section 5.2 and 5.5.
const (
	// MaxHeaderSize is the largest encoded frame header: 2 bytes, an 8-byte
	// extended length and a 4-byte masking key.
	MaxHeaderSize = 14
	// MaxControlPayload is the largest payload a control frame may carry.
	MaxControlPayload = 125
)

// Header is a decoded frame header (RFC 6455 section 5.2). Length is the
// payload length announced by the header; Mask is meaningful only when
// Masked is set.
type Header struct {
	Fin, Rsv1, Rsv2, Rsv3, Masked bool
	Opcode                        Opcode
	Mask                          [4]byte
	Length                        int64
}

const (
	bitFin    = 0x80
	bitRsv1   = 0x40
	bitRsv2   = 0x20
	bitRsv3   = 0x10
	bitMasked = 0x80
	len16     = 126
	len64     = 127
)

// Size returns the number of bytes PutHeader writes for h: 2, plus 2 or 8
// for an extended length, plus 4 when masked.
func (h Header) Size() int {
	n := 2
	switch {
	case h.Length > 0xFFFF:
		n += 8
	case h.Length > MaxControlPayload:
		n += 2
	}
	if h.Masked {
		n += 4
	}
	return n
}

// PutHeader encodes h into dst, which must have at least h.Size() bytes, and
// returns the number of bytes written. The shortest length encoding is used.
// PutHeader does not check h against the protocol rules, so tests can write
// illegal frames on purpose; a negative Length is encoded as 0.
func PutHeader(dst []byte, h Header) int {
	b0 := byte(h.Opcode & 0x0F)
	if h.Fin {
		b0 |= bitFin
	}
	if h.Rsv1 {
		b0 |= bitRsv1
	}
	if h.Rsv2 {
		b0 |= bitRsv2
	}
	if h.Rsv3 {
		b0 |= bitRsv3
	}
	var b1 byte
	if h.Masked {
		b1 = bitMasked
	}
	length := max(h.Length, 0)
	var n int
	switch {
	case length > 0xFFFF:
		_ = dst[9]
		dst[0], dst[1] = b0, b1|len64
		binary.BigEndian.PutUint64(dst[2:], uint64(length))
		n = 10
	case length > MaxControlPayload:
		_ = dst[3]
		dst[0], dst[1] = b0, b1|len16
		binary.BigEndian.PutUint16(dst[2:], uint16(length))
		n = 4
	default:
		_ = dst[1]
		dst[0], dst[1] = b0, b1|byte(length)
		n = 2
	}
	if h.Masked {
		n += copy(dst[n:n+4], h.Mask[:])
	}
	return n
}

// AppendHeader appends the encoding of h to dst and returns the extended
// slice.
func AppendHeader(dst []byte, h Header) []byte {
	var buf [MaxHeaderSize]byte
	n := PutHeader(buf[:], h)
	return append(dst, buf[:n]...)
}

// AppendFrame appends a whole frame to dst: the header h with Length set to
// len(payload), then payload, masked with h.Mask when h.Masked is set
// (payload itself is not modified). It returns the extended slice.
func AppendFrame(dst []byte, h Header, payload []byte) []byte {
	h.Length = int64(len(payload))
	dst = AppendHeader(dst, h)
	start := len(dst)
	dst = append(dst, payload...)
	if h.Masked {
		Mask(h.Mask, 0, dst[start:])
	}
	return dst
}

// ParseHeader decodes the frame header at the start of b. It returns the
// header and its encoded size n. When b holds only part of a header it
// returns n == 0 and a nil error: call again with more bytes.
//
// ParseHeader enforces the rules that do not depend on the connection: it
// returns a *ProtocolError with code 1002 for a reserved opcode, a control
// frame that is fragmented or announces more than MaxControlPayload bytes,
// and a 64-bit length with the most significant bit set. It reports these as
// soon as the first two bytes are present. Reserved bits, masking and
// fragmentation sequence are checked by the Parser, which knows the role and
// the negotiated extensions.
func ParseHeader(b []byte) (h Header, n int, err error) {
	n, perr := parseHeader(b, &h)
	if perr != nil {
		return Header{}, 0, perr
	}
	if n == 0 {
		return Header{}, 0, nil
	}
	return h, n, nil
}

// parseHeader is ParseHeader writing into *h, field by field (the Parser's
// hot path: no whole-struct copies).
func parseHeader(b []byte, h *Header) (n int, err *ProtocolError) {
	if len(b) < 2 {
		return 0, nil
	}
	b0, b1 := b[0], b[1]
	h.Fin = b0&bitFin != 0
	h.Rsv1 = b0&bitRsv1 != 0
	h.Rsv2 = b0&bitRsv2 != 0
	h.Rsv3 = b0&bitRsv3 != 0
	h.Opcode = Opcode(b0 & 0x0F)
	h.Masked = b1&bitMasked != 0
	l7 := b1 &^ bitMasked
	if h.Opcode.IsReserved() {
		return 0, protocolErr("reserved opcode " + h.Opcode.String())
	}
	if h.Opcode.IsControl() {
		if !h.Fin {
			return 0, protocolErr("fragmented " + h.Opcode.String() + " frame")
		}
		if l7 > MaxControlPayload {
			return 0, protocolErr(h.Opcode.String() + " frame payload over 125 bytes")
		}
	}
	n = 2
	switch l7 {
	case len16:
		if len(b) < 4 {
			return 0, nil
		}
		h.Length = int64(binary.BigEndian.Uint16(b[2:]))
		n = 4
	case len64:
		if len(b) < 10 {
			return 0, nil
		}
		l := binary.BigEndian.Uint64(b[2:])
		if l>>63 != 0 {
			return 0, protocolErr("64-bit payload length with most significant bit set")
		}
		h.Length = int64(l)
		n = 10
	default:
		h.Length = int64(l7)
	}
	if h.Masked {
		if len(b) < n+4 {
			return 0, nil
		}
		copy(h.Mask[:], b[n:n+4])
		n += 4
	}
	return n, nil
}
