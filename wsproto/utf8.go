package wsproto

import "encoding/binary"

// UTF8Validator checks that a byte stream is well-formed UTF-8 (RFC 3629)
// when it arrives in pieces, as text messages do across reads, frames and
// fragments. It rejects overlong encodings, surrogates (U+D800-U+DFFF) and
// code points above U+10FFFF, and it fails at the first byte that makes the
// input invalid whatever follows (0xF5 fails alone; 0xED 0xA0 fails at the
// second byte). The zero value is ready to use; it is a single byte of
// state, so copying it copies the state.
type UTF8Validator struct {
	state utf8State
}

type utf8State uint8

// States of the validator: how many continuation bytes are still owed and,
// for the lead bytes whose second byte has a narrower range, which range.
const (
	u8Accept  utf8State = iota // between sequences
	u8Need1                    // one continuation byte 80-BF to go
	u8Need2                    // two continuation bytes 80-BF to go
	u8Need3                    // three continuation bytes 80-BF to go
	u8AfterE0                  // next A0-BF (no overlong 3-byte form), then 1
	u8AfterED                  // next 80-9F (no surrogates), then 1
	u8AfterF0                  // next 90-BF (no overlong 4-byte form), then 2
	u8AfterF4                  // next 80-8F (nothing above U+10FFFF), then 2
	u8Reject                   // invalid; sticky until Reset
	u8NumStates
)

// Byte classes: bytes that every state treats alike.
const (
	ccASCII   = iota // 00-7F
	ccCont8x         // 80-8F
	ccCont9x         // 90-9F
	ccContAB         // A0-BF
	ccInvalid        // C0, C1, F5-FF: never appear in UTF-8
	ccLead2          // C2-DF
	ccE0             // E0
	ccLead3          // E1-EC, EE, EF
	ccED             // ED
	ccF0             // F0
	ccLead4          // F1-F3
	ccF4             // F4
	ccNumClasses
)

var (
	utf8Class [256]uint8
	utf8Next  [u8NumStates][ccNumClasses]utf8State
)

func init() {
	for b := 0; b < 256; b++ {
		var c uint8
		switch {
		case b <= 0x7F:
			c = ccASCII
		case b <= 0x8F:
			c = ccCont8x
		case b <= 0x9F:
			c = ccCont9x
		case b <= 0xBF:
			c = ccContAB
		case b <= 0xC1:
			c = ccInvalid
		case b <= 0xDF:
			c = ccLead2
		case b == 0xE0:
			c = ccE0
		case b == 0xED:
			c = ccED
		case b <= 0xEF:
			c = ccLead3
		case b == 0xF0:
			c = ccF0
		case b <= 0xF3:
			c = ccLead4
		case b == 0xF4:
			c = ccF4
		default:
			c = ccInvalid
		}
		utf8Class[b] = c
	}
	for s := range utf8Next {
		for c := range utf8Next[s] {
			utf8Next[s][c] = u8Reject
		}
	}
	// Between sequences: ASCII stays, a lead byte opens a sequence.
	utf8Next[u8Accept][ccASCII] = u8Accept
	utf8Next[u8Accept][ccLead2] = u8Need1
	utf8Next[u8Accept][ccE0] = u8AfterE0
	utf8Next[u8Accept][ccLead3] = u8Need2
	utf8Next[u8Accept][ccED] = u8AfterED
	utf8Next[u8Accept][ccF0] = u8AfterF0
	utf8Next[u8Accept][ccLead4] = u8Need3
	utf8Next[u8Accept][ccF4] = u8AfterF4
	for _, c := range []int{ccCont8x, ccCont9x, ccContAB} {
		utf8Next[u8Need1][c] = u8Accept
		utf8Next[u8Need2][c] = u8Need1
		utf8Next[u8Need3][c] = u8Need2
	}
	utf8Next[u8AfterE0][ccContAB] = u8Need1
	utf8Next[u8AfterED][ccCont8x] = u8Need1
	utf8Next[u8AfterED][ccCont9x] = u8Need1
	utf8Next[u8AfterF0][ccCont9x] = u8Need2
	utf8Next[u8AfterF0][ccContAB] = u8Need2
	utf8Next[u8AfterF4][ccCont8x] = u8Need2
}

// Write feeds p to the validator. It returns false as soon as the input seen
// since the last Reset cannot be the prefix of valid UTF-8, and keeps
// returning false until Reset. A true result with Complete false means the
// input so far ends inside a multi-byte sequence.
func (v *UTF8Validator) Write(p []byte) bool {
	s := v.state
	for len(p) > 0 {
		if s == u8Accept {
			// Skip ASCII eight bytes at a time.
			for len(p) >= 8 {
				if binary.LittleEndian.Uint64(p)&0x8080808080808080 != 0 {
					break
				}
				p = p[8:]
			}
			if len(p) == 0 {
				break
			}
		}
		s = utf8Next[s][utf8Class[p[0]]]
		if s == u8Reject {
			v.state = s
			return false
		}
		p = p[1:]
	}
	v.state = s
	return s != u8Reject
}

// Complete reports whether the input so far is valid and does not end inside
// a multi-byte sequence, i.e. whether it would be valid UTF-8 if it ended
// here.
func (v *UTF8Validator) Complete() bool { return v.state == u8Accept }

// Reset returns the validator to its zero state, ready for a new stream.
func (v *UTF8Validator) Reset() { v.state = u8Accept }

// validUTF8 reports whether b is complete, valid UTF-8.
func validUTF8(b []byte) bool {
	var v UTF8Validator
	return v.Write(b) && v.Complete()
}
