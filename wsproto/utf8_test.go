package wsproto

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// classReps holds a byte from each range the UTF-8 rules tell apart, and the
// ends of each range.
var classReps = []byte{
	0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
	0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xF8, 0xFF,
}

// prefixOK is the reference for "invalid is not yet certain": p extended by
// at most three continuation bytes can be valid UTF-8.
func prefixOK(p []byte) bool {
	conts := []byte{0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF}
	buf := append([]byte(nil), p...)
	var try func(k int) bool
	try = func(k int) bool {
		if utf8.Valid(buf) {
			return true
		}
		if k == 0 {
			return false
		}
		for _, c := range conts {
			buf = append(buf, c)
			ok := try(k - 1)
			buf = buf[:len(buf)-1]
			if ok {
				return true
			}
		}
		return false
	}
	return try(3)
}

func checkUTF8(t *testing.T, p []byte) {
	t.Helper()
	var v UTF8Validator
	ok := v.Write(p)
	if want := prefixOK(p); ok != want {
		t.Fatalf("Write(%x) = %v, want %v", p, ok, want)
	}
	if got, want := ok && v.Complete(), utf8.Valid(p); got != want {
		t.Fatalf("Write(%x) && Complete() = %v, utf8.Valid = %v", p, got, want)
	}
}

// TestUTF8Exhaustive checks every input of one and two bytes and every
// combination of up to four class representatives.
func TestUTF8Exhaustive(t *testing.T) {
	for a := range 256 {
		checkUTF8(t, []byte{byte(a)})
		for b := range 256 {
			p := []byte{byte(a), byte(b)}
			var v UTF8Validator
			if got, want := v.Write(p) && v.Complete(), utf8.Valid(p); got != want {
				t.Fatalf("%x: got %v, utf8.Valid %v", p, got, want)
			}
		}
	}
	for _, a := range classReps {
		for _, b := range classReps {
			checkUTF8(t, []byte{a, b})
			for _, c := range classReps {
				checkUTF8(t, []byte{a, b, c})
				for _, d := range classReps {
					p := []byte{a, b, c, d}
					var v UTF8Validator
					if got, want := v.Write(p) && v.Complete(), utf8.Valid(p); got != want {
						t.Fatalf("%x: got %v, utf8.Valid %v", p, got, want)
					}
				}
			}
		}
	}
	// Every 3-byte sequence with a 3- or 4-byte lead and any second byte.
	for a := 0xE0; a <= 0xF4; a++ {
		for b := range 256 {
			for _, c := range classReps {
				checkUTF8(t, []byte{byte(a), byte(b), c})
			}
		}
	}
	// Every value up to 0x13FFFF in its shortest 1- to 4-byte form,
	// surrogates and values past U+10FFFF included, after some ASCII.
	for r := rune(0); r <= 0x13FFFF; r++ {
		p := appendRawRune([]byte("abcdefgh"), r)
		var v UTF8Validator
		if got, want := v.Write(p) && v.Complete(), utf8.ValidRune(r); got != want {
			t.Fatalf("U+%04X: got %v, want %v", r, got, want)
		}
	}
}

// appendRawRune encodes r the way UTF-8 would if it had no exclusions.
func appendRawRune(b []byte, r rune) []byte {
	switch {
	case r < 0x80:
		return append(b, byte(r))
	case r < 0x800:
		return append(b, 0xC0|byte(r>>6), 0x80|byte(r&0x3F))
	case r < 0x10000:
		return append(b, 0xE0|byte(r>>12), 0x80|byte(r>>6&0x3F), 0x80|byte(r&0x3F))
	}
	return append(b, 0xF0|byte(r>>18), 0x80|byte(r>>12&0x3F), 0x80|byte(r>>6&0x3F), 0x80|byte(r&0x3F))
}

// TestUTF8Early checks that failure is reported at the first byte that makes
// the input invalid.
func TestUTF8Early(t *testing.T) {
	tests := []struct {
		in     string
		failAt int // index of the byte whose Write fails; -1: never
		done   bool
	}{
		{"", -1, true},
		{"a", -1, true},
		{"\xf5", 0, false},
		{"\xff", 0, false},
		{"\xc0", 0, false},
		{"\xc1\xbf", 0, false},
		{"\x80", 0, false},
		{"\xed\xa0", 1, false},
		{"\xed\xbf\xbf", 1, false},
		{"\xed\x9f", -1, false},
		{"\xed\x9f\xbf", -1, true},
		{"\xe0\x80", 1, false},
		{"\xe0\x9f", 1, false},
		{"\xe0\xa0", -1, false},
		{"\xf0\x80", 1, false},
		{"\xf0\x8f", 1, false},
		{"\xf0\x90\x80", -1, false},
		{"\xf0\x90\x80\x80", -1, true},
		{"\xf4\x90", 1, false},
		{"\xf4\x8f\xbf\xbf", -1, true},
		{"\xf4\x8f\xbf", -1, false},
		{"\xc2a", 1, false},
		{"\xe2\x82", -1, false},
		{"\xe2\x82\xac", -1, true},
		{"abc\xe2\x82\xac\xe2\x82", -1, false},
		{"\xe2\x82\xac\x80", 3, false},
	}
	for _, tt := range tests {
		var v UTF8Validator
		failed := -1
		for i := range len(tt.in) {
			if !v.Write([]byte{tt.in[i]}) {
				failed = i
				break
			}
		}
		if failed != tt.failAt {
			t.Errorf("%q: failed at byte %d, want %d", tt.in, failed, tt.failAt)
		}
		if tt.failAt < 0 && v.Complete() != tt.done {
			t.Errorf("%q: Complete() = %v, want %v", tt.in, v.Complete(), tt.done)
		}
		if tt.failAt >= 0 {
			if v.Write([]byte("a")) || v.Write(nil) || v.Complete() {
				t.Errorf("%q: validator recovered after failure", tt.in)
			}
			v.Reset()
			if !v.Write([]byte("ok")) || !v.Complete() {
				t.Errorf("%q: Reset did not clear the failure", tt.in)
			}
		}
	}
}

// randomUTF8ish builds a mostly valid string with some defects.
func randomUTF8ish(r *rand.Rand) []byte {
	var b []byte
	n := r.IntN(40)
	for range n {
		switch r.IntN(12) {
		case 0:
			b = append(b, byte(r.UintN(256)))
		case 1:
			b = append(b, classReps[r.IntN(len(classReps))])
		case 2:
			b = append(b, 0xED, byte(0x80+r.UintN(64)), byte(0x80+r.UintN(64))) // maybe a surrogate
		case 3:
			b = append(b, strings.Repeat("x", r.IntN(20))...)
		default:
			var rr rune
			switch r.IntN(4) {
			case 0:
				rr = rune(r.IntN(0x80))
			case 1:
				rr = rune(r.IntN(0x800))
			case 2:
				rr = rune(r.IntN(0x10000))
			default:
				rr = rune(r.IntN(utf8.MaxRune + 1))
			}
			b = utf8.AppendRune(b, rr)
		}
	}
	return b
}

func TestUTF8RandomSplits(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		p := randomUTF8ish(r)
		want := utf8.Valid(p)
		var v UTF8Validator
		ok := true
		for rest := p; len(rest) > 0; {
			k := min(len(rest), 1+r.IntN(9))
			ok = v.Write(rest[:k])
			if !ok {
				// Invalid must be certain: the prefix fed so far cannot be completed.
				fed := p[:len(p)-len(rest)+k]
				if prefixOK(fed) {
					t.Fatalf("%x: Write failed after %x, which can still be valid", p, fed)
				}
				break
			}
			rest = rest[k:]
		}
		if got := ok && v.Complete(); got != want {
			t.Fatalf("%x: split validation = %v, utf8.Valid = %v", p, got, want)
		}
	}
}

func FuzzUTF8(f *testing.F) {
	for _, s := range []string{"", "hello", "κόσμε", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf", "€\xe2\x82"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		want := utf8.Valid(p)
		var v UTF8Validator
		if got := v.Write(p) && v.Complete(); got != want {
			t.Fatalf("whole %x: %v, utf8.Valid %v", p, got, want)
		}
		for i := 0; i <= len(p); i++ {
			v.Reset()
			okA := v.Write(p[:i])
			got := okA && v.Write(p[i:]) && v.Complete()
			if got != want {
				t.Fatalf("%x split at %d: %v, utf8.Valid %v", p, i, got, want)
			}
			if !okA && utf8.Valid(p[:i]) {
				t.Fatalf("%x: prefix %d is valid but Write failed", p, i)
			}
		}
		v.Reset()
		ok := true
		for i := range p {
			if ok = v.Write(p[i : i+1]); !ok {
				break
			}
		}
		if got := ok && v.Complete(); got != want {
			t.Fatalf("byte at a time %x: %v, utf8.Valid %v", p, got, want)
		}
	})
}

func BenchmarkUTF8Validator(b *testing.B) {
	inputs := map[string][]byte{
		"ascii-1KiB": []byte(strings.Repeat("The quick brown fox. ", 49)[:1024]),
		"mixed-1KiB": []byte(strings.Repeat("κόσμε € 😀 abc ", 64)[:1024]),
	}
	for name, in := range inputs {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				var v UTF8Validator
				v.Write(in)
			}
		})
	}
}
