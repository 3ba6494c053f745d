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

// utf8ClassRanges gives the class of each byte range; the bytes it leaves
// out (C0, C1, F5-FF) are ccInvalid.
var utf8ClassRanges = [...]struct{ lo, hi, class uint8 }{
	{0x00, 0x7F, ccASCII}, {0x80, 0x8F, ccCont8x}, {0x90, 0x9F, ccCont9x}, {0xA0, 0xBF, ccContAB},
	{0xC2, 0xDF, ccLead2}, {0xE0, 0xE0, ccE0}, {0xE1, 0xEC, ccLead3}, {0xED, 0xED, ccED},
	{0xEE, 0xEF, ccLead3}, {0xF0, 0xF0, ccF0}, {0xF1, 0xF3, ccLead4}, {0xF4, 0xF4, ccF4},
}

// anyCont is the class set of every continuation byte (80-BF).
const anyCont = 1<<ccCont8x | 1<<ccCont9x | 1<<ccContAB

// utf8Steps are the moves valid input makes: from a state, on a byte of
// one of the classes (a bit set, 1<<class), to the next state. Every other
// state and class rejects.
var utf8Steps = [...]struct {
	from    utf8State
	classes uint16
	to      utf8State
}{
	// Between sequences: ASCII stays, a lead byte opens a sequence.
	{u8Accept, 1 << ccASCII, u8Accept}, {u8Accept, 1 << ccLead2, u8Need1},
	{u8Accept, 1 << ccE0, u8AfterE0}, {u8Accept, 1 << ccLead3, u8Need2},
	{u8Accept, 1 << ccED, u8AfterED}, {u8Accept, 1 << ccF0, u8AfterF0},
	{u8Accept, 1 << ccLead4, u8Need3}, {u8Accept, 1 << ccF4, u8AfterF4},
	// Inside a sequence: a continuation byte in the state's range.
	{u8Need1, anyCont, u8Accept}, {u8Need2, anyCont, u8Need1}, {u8Need3, anyCont, u8Need2},
	{u8AfterE0, 1 << ccContAB, u8Need1}, {u8AfterED, 1<<ccCont8x | 1<<ccCont9x, u8Need1},
	{u8AfterF0, 1<<ccCont9x | 1<<ccContAB, u8Need2}, {u8AfterF4, 1 << ccCont8x, u8Need2},
}

func init() {
	for b := range utf8Class {
		utf8Class[b] = ccInvalid
	}
	for _, r := range utf8ClassRanges {
		for b := int(r.lo); b <= int(r.hi); b++ {
			utf8Class[b] = r.class
		}
	}
	for s := range utf8Next {
		for c := range utf8Next[s] {
			utf8Next[s][c] = u8Reject
		}
	}
	for _, st := range utf8Steps {
		for c := range utf8Next[st.from] {
			if st.classes&(1<<c) != 0 {
				utf8Next[st.from][c] = st.to
			}
		}
	}
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
