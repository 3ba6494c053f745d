package wsproto

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"
)

// transcript is what a Parser produced from an input, in a form that does
// not depend on how the input was cut into calls.
type transcript struct {
	events  []string // whole messages and control frames, in order
	partial []byte   // payload of a message not finished at the end
	err     CloseCode
	reason  string
}

func (tr transcript) String() string {
	return fmt.Sprintf("events %q, partial %q, err %d %s", tr.events, tr.partial, tr.err, tr.reason)
}

// feed runs a new Parser with cfg over a copy of input given chunk bytes per
// call (all at once when chunk <= 0), checks the invariants of every event,
// and returns the transcript.
func feed(t testing.TB, cfg ParserConfig, input []byte, chunk int) transcript {
	t.Helper()
	var p Parser
	p.Init(cfg)
	return feedParser(t, &p, bytes.Clone(input), chunk)
}

func feedParser(t testing.TB, p *Parser, input []byte, chunk int) transcript {
	t.Helper()
	if chunk <= 0 {
		chunk = max(len(input), 1)
	}
	var tr transcript
	var msg []byte
	var msgOp Opcode
	var msgCompressed bool
	inMsg := false
	frameLeft := int64(0) // payload still owed by the current data frame
	for off := 0; off < len(input); off += chunk {
		b := input[off:min(off+chunk, len(input))]
		for {
			ev, n, err := p.Next(b)
			if n < 0 || n > len(b) {
				t.Fatalf("Next consumed %d of %d bytes", n, len(b))
			}
			if err != nil {
				var pe *ProtocolError
				if !errors.As(err, &pe) {
					t.Fatalf("Next error %v is not a *ProtocolError", err)
				}
				if ev.Type != EventNone {
					t.Fatalf("Next returned event %v with error %v", ev.Type, err)
				}
				if _, n2, err2 := p.Next([]byte{0x81, 0x00}); n2 != 0 || err2 != err {
					t.Fatalf("after %v, Next = %d, %v; want 0 and the same error", err, n2, err2)
				}
				tr.err, tr.reason = pe.Code, pe.Reason
				tr.partial = msg
				return tr
			}
			if ev.Type == EventNone {
				if n != len(b) {
					t.Fatalf("EventNone consumed %d of %d bytes", n, len(b))
				}
				break
			}
			if n == 0 {
				t.Fatalf("event %v consumed no input", ev.Type)
			}
			switch ev.Type {
			case EventData:
				if len(ev.Payload) > 0 && &ev.Payload[len(ev.Payload)-1] != &b[n-1] {
					t.Fatalf("data payload is not the tail of the consumed input")
				}
				if frameLeft > 0 && ev.FrameRemaining != frameLeft-int64(len(ev.Payload)) {
					t.Fatalf("FrameRemaining %d after %d bytes, had %d", ev.FrameRemaining, len(ev.Payload), frameLeft)
				}
				if ev.MessageStart == inMsg {
					t.Fatalf("MessageStart = %v inside message = %v", ev.MessageStart, inMsg)
				}
				if ev.Opcode != OpText && ev.Opcode != OpBinary {
					t.Fatalf("data event with opcode %v", ev.Opcode)
				}
				if ev.MessageEnd != (ev.FrameFin && ev.FrameRemaining == 0) {
					t.Fatalf("MessageEnd %v with FrameFin %v FrameRemaining %d", ev.MessageEnd, ev.FrameFin, ev.FrameRemaining)
				}
				if ev.MessageStart {
					msgOp, msgCompressed, msg = ev.Opcode, ev.Compressed, []byte{}
				} else if ev.Opcode != msgOp || ev.Compressed != msgCompressed {
					t.Fatalf("message changed from %v/%v to %v/%v", msgOp, msgCompressed, ev.Opcode, ev.Compressed)
				}
				if ev.Opcode == OpText && !ev.Compressed && ev.MessageEnd && !utf8.Valid(append(msg, ev.Payload...)) {
					t.Fatalf("invalid UTF-8 text message delivered without error")
				}
				msg = append(msg, ev.Payload...)
				frameLeft = ev.FrameRemaining
				inMsg = !ev.MessageEnd
				if ev.MessageEnd {
					name := ev.Opcode.String()
					if ev.Compressed {
						name += "(c)"
					}
					tr.events = append(tr.events, fmt.Sprintf("%s %q", name, msg))
					msg = nil
				}
			case EventControl:
				if !ev.Opcode.IsControl() || ev.Opcode.IsReserved() || len(ev.Payload) > MaxControlPayload {
					t.Fatalf("control event %v with %d bytes", ev.Opcode, len(ev.Payload))
				}
				if frameLeft > 0 {
					t.Fatalf("control event inside a data frame")
				}
				if ev.Opcode == OpClose {
					tr.events = append(tr.events, fmt.Sprintf("close %d %q", ev.CloseCode, ev.CloseReason))
				} else {
					tr.events = append(tr.events, fmt.Sprintf("%s %q", ev.Opcode, ev.Payload))
				}
			default:
				t.Fatalf("unknown event type %v", ev.Type)
			}
			if p.InMessage() != inMsg {
				t.Fatalf("InMessage() = %v, want %v", p.InMessage(), inMsg)
			}
			b = b[n:]
		}
	}
	tr.partial = msg
	return tr
}

// sameTranscript compares the transcripts of two cuttings of one input. A
// text message that fails UTF-8 validation may have delivered a longer
// valid prefix when cut finer.
func sameTranscript(fine, coarse transcript) bool {
	if !slices.Equal(fine.events, coarse.events) || fine.err != coarse.err {
		return false
	}
	if fine.err == CloseInvalidPayload {
		return bytes.HasPrefix(fine.partial, coarse.partial)
	}
	return bytes.Equal(fine.partial, coarse.partial)
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	return mustHex(t, strings.ReplaceAll(s, " ", ""))
}

// toClientFrames turns frames as a server sends them into what a client
// sends: the mask bit set, a key after the length, the payload masked. It
// uses the byte-by-byte reference masking.
func toClientFrames(t testing.TB, frames []string) []byte {
	t.Helper()
	var out []byte
	for i, f := range frames {
		b := unhex(t, f)
		hl := 2
		switch b[1] & 0x7F {
		case 126:
			hl = 4
		case 127:
			hl = 10
		}
		if b[1]&0x80 != 0 || len(b) < hl {
			t.Fatalf("frame %d (%s) is not a complete unmasked header", i, f)
		}
		key := [4]byte{0xA5, byte(i), 0x3C, 0xF0}
		hdr := append(bytes.Clone(b[:hl]), key[:]...)
		hdr[1] |= 0x80
		payload := bytes.Clone(b[hl:])
		maskRef(key, 0, payload)
		out = append(append(out, hdr...), payload...)
	}
	return out
}

type conformanceCase struct {
	name   string
	cfg    ParserConfig
	frames []string // hex, as a server sends them; masked for RoleServer
	raw    bool     // frames are wire bytes for cfg.Role only
	want   []string
	err    CloseCode
}

const hello = "48656c6c6f" // "Hello"

var conformanceCases = []conformanceCase{
	// Valid streams.
	{name: "single text (RFC 6455 5.7)", frames: []string{"8105" + hello}, want: []string{`text "Hello"`}},
	{name: "fragmented text (RFC 6455 5.7)", frames: []string{"0103 48656c", "8002 6c6f"}, want: []string{`text "Hello"`}},
	{name: "ping between fragments", frames: []string{"0103 48656c", "8905" + hello, "8002 6c6f"},
		want: []string{`ping "Hello"`, `text "Hello"`}},
	{name: "close between fragments", frames: []string{"0201 01", "8802 03e8", "8001 02"},
		want: []string{`close 1000 ""`, `binary "\x01\x02"`}},
	{name: "empty middle fragment", frames: []string{"0202 0102", "0000", "8001 03"}, want: []string{`binary "\x01\x02\x03"`}},
	{name: "empty text", frames: []string{"8100"}, want: []string{`text ""`}},
	{name: "empty fragments", frames: []string{"0200", "8000"}, want: []string{`binary ""`}},
	{name: "two messages", frames: []string{"8101 61", "8201 62"}, want: []string{`text "a"`, `binary "b"`}},
	{name: "256 bytes, 16-bit length (RFC 6455 5.7)", frames: []string{"827e0100" + strings.Repeat("ab", 256)},
		want: []string{fmt.Sprintf("binary %q", strings.Repeat("\xab", 256))}},
	{name: "64 KiB, 64-bit length (RFC 6455 5.7)", frames: []string{"827f0000000000010000" + strings.Repeat("cd", 65536)},
		want: []string{fmt.Sprintf("binary %q", strings.Repeat("\xcd", 65536))}},
	{name: "control frames", frames: []string{"8900", "8a05" + hello, "897d" + strings.Repeat("00", 125)},
		want: []string{`ping ""`, `pong "Hello"`, fmt.Sprintf("ping %q", strings.Repeat("\x00", 125))}},
	{name: "empty close", frames: []string{"8800"}, want: []string{`close 1005 ""`}},
	{name: "close with reason", frames: []string{"8805 03e8 627965"}, want: []string{`close 1000 "bye"`}},
	{name: "close codes valid on the wire", frames: []string{"8802 03f4", "8802 0bb8", "8802 1387", "8802 03f3"},
		want: []string{`close 1012 ""`, `close 3000 ""`, `close 4999 ""`, `close 1011 ""`}},
	{name: "UTF-8 split across fragments", frames: []string{"0102 48ce", "8901 00", "8001 ba"},
		want: []string{`ping "\x00"`, `text "Hκ"`}},
	{name: "4-byte UTF-8 split three ways", frames: []string{"0101 f0", "0002 9f98", "8001 80"}, want: []string{`text "😀"`}},
	{name: "compressed text is not UTF-8 checked", cfg: ParserConfig{AllowRSV1: true},
		frames: []string{"c102 fffe"}, want: []string{`text(c) "\xff\xfe"`}},
	{name: "compressed fragmented", cfg: ParserConfig{AllowRSV1: true},
		frames: []string{"4101 ff", "8901 00", "8001 fe", "8101 61"}, want: []string{`ping "\x00"`, `text(c) "\xff\xfe"`, `text "a"`}},
	{name: "size exactly at limit", cfg: ParserConfig{MaxMessageSize: 5},
		frames: []string{"0102 4865", "8903 000000", "8003 6c6c6f", "8205 0102030405"},
		want:   []string{`ping "\x00\x00\x00"`, `text "Hello"`, `binary "\x01\x02\x03\x04\x05"`}},
	{name: "empty fragments exactly at limit", cfg: ParserConfig{MaxFragments: 3},
		frames: []string{"0101 61", "8900", "8001 62", "0100", "0000", "8000"}, want: []string{`ping ""`, `text "ab"`, `text ""`}},
	{name: "one-byte fragments pass the smallest fragment limit", cfg: ParserConfig{MaxFragments: 1},
		frames: []string{"0101 61", "0001 62", "8900", "0001 63", "8001 64"}, want: []string{`ping ""`, `text "abcd"`}},
	{name: "payload pays for empty fragments", cfg: ParserConfig{MaxFragments: 1},
		frames: []string{"0203 616263", "0000", "0000", "8000"}, want: []string{`binary "abc"`}},

	// Reserved opcodes and bits: 1002.
	{name: "reserved opcode 3", frames: []string{"8300"}, err: 1002},
	{name: "reserved opcode 7 in a message", frames: []string{"0101 61", "8700"}, err: 1002},
	{name: "reserved control opcode 11", frames: []string{"8b00"}, err: 1002},
	{name: "reserved opcode 15", frames: []string{"8f00"}, err: 1002},
	{name: "RSV1 without extension", frames: []string{"c100"}, err: 1002},
	{name: "RSV2", frames: []string{"a100"}, err: 1002},
	{name: "RSV3", frames: []string{"9100"}, err: 1002},
	{name: "RSV2 with extension", cfg: ParserConfig{AllowRSV1: true}, frames: []string{"e100"}, err: 1002},
	{name: "RSV1 on continuation", cfg: ParserConfig{AllowRSV1: true}, frames: []string{"4101 ff", "c001 fe"}, err: 1002},
	{name: "RSV1 on continuation of plain message", cfg: ParserConfig{AllowRSV1: true}, frames: []string{"0101 61", "c001 62"}, err: 1002},
	{name: "RSV1 on ping", cfg: ParserConfig{AllowRSV1: true}, frames: []string{"c900"}, err: 1002},
	{name: "RSV1 on close", cfg: ParserConfig{AllowRSV1: true}, frames: []string{"c800"}, err: 1002},

	// Control frame rules: 1002.
	{name: "ping of 126 bytes", frames: []string{"897e007e" + strings.Repeat("00", 126)}, err: 1002},
	{name: "close of 127-length form", frames: []string{"887f0000000000000002 03e8"}, err: 1002},
	{name: "fragmented ping", frames: []string{"0900"}, err: 1002},
	{name: "fragmented close", frames: []string{"0802 03e8"}, err: 1002},
	{name: "fragmented pong in a message", frames: []string{"0101 61", "0a00"}, err: 1002},

	// Fragmentation sequence: 1002.
	{name: "continuation without message", frames: []string{"8001 61"}, err: 1002},
	{name: "empty continuation without message", frames: []string{"0000"}, err: 1002},
	{name: "continuation after finished message", frames: []string{"8101 61", "8001 62"}, want: []string{`text "a"`}, err: 1002},
	{name: "text inside fragmented message", frames: []string{"0101 61", "8101 62"}, err: 1002},
	{name: "binary inside fragmented message", frames: []string{"0201 61", "0201 62"}, err: 1002},

	// Length: 1002.
	{name: "64-bit length with top bit", frames: []string{"827f8000000000000000"}, err: 1002},
	{name: "64-bit length all ones", frames: []string{"827fffffffffffffffff"}, err: 1002},

	// Text payload: 1007.
	{name: "overlong in text", frames: []string{"8102 c0af"}, err: 1007},
	{name: "surrogate in text", frames: []string{"8103 eda080"}, err: 1007},
	{name: "above U+10FFFF", frames: []string{"8104 f4908080"}, err: 1007},
	{name: "invalid across fragments", frames: []string{"0101 ed", "8902 0000", "8002 a080"}, want: []string{`ping "\x00\x00"`}, err: 1007},
	{name: "incomplete at message end", frames: []string{"8102 e282"}, err: 1007},
	{name: "incomplete at end of fragments", frames: []string{"0102 e282", "8000"}, err: 1007},
	{name: "invalid before frame is complete", frames: []string{"810a 61f5"}, err: 1007},
	{name: "surrogate before frame is complete", frames: []string{"8164 48eda0"}, err: 1007},
	{name: "valid message then invalid", frames: []string{"8101 61", "8101 ff"}, want: []string{`text "a"`}, err: 1007},
	{name: "binary is not UTF-8 checked", frames: []string{"8202 c0af"}, want: []string{`binary "\xc0\xaf"`}},

	// Limits: 1009.
	{name: "frame over size limit", cfg: ParserConfig{MaxMessageSize: 10}, frames: []string{"820b" + strings.Repeat("00", 11)}, err: 1009},
	{name: "huge announced length", cfg: ParserConfig{MaxMessageSize: 1 << 20}, frames: []string{"827f0000010000000000"}, err: 1009},
	{name: "fragments over size limit", cfg: ParserConfig{MaxMessageSize: 10},
		frames: []string{"0206 000000000000", "8900", "8005 0000000000"}, want: []string{`ping ""`}, err: 1009},
	{name: "empty fragments over limit", cfg: ParserConfig{MaxFragments: 3}, frames: []string{"0100", "0000", "0000", "8000"}, err: 1009},
	{name: "empty fragments once the payload is spent", cfg: ParserConfig{MaxFragments: 1},
		frames: []string{"8101 61", "0101 62", "0000", "8000"}, want: []string{`text "a"`}, err: 1009},

	// Close payload.
	{name: "close with one byte", frames: []string{"8801 03"}, err: 1002},
	{name: "close code 0", frames: []string{"8802 0000"}, err: 1002},
	{name: "close code 999", frames: []string{"8802 03e7"}, err: 1002},
	{name: "close code 1004", frames: []string{"8802 03ec"}, err: 1002},
	{name: "close code 1005", frames: []string{"8802 03ed"}, err: 1002},
	{name: "close code 1006", frames: []string{"8802 03ee"}, err: 1002},
	{name: "close code 1015", frames: []string{"8802 03f7"}, err: 1002},
	{name: "close code 1016", frames: []string{"8802 03f8"}, err: 1002},
	{name: "close code 2999", frames: []string{"8802 0bb7"}, err: 1002},
	{name: "close code 5000", frames: []string{"8802 1388"}, err: 1002},
	{name: "close reason not UTF-8", frames: []string{"8804 03e8 c0af"}, err: 1007},

	// Masking rule, as literal wire bytes for one role.
	{name: "masked Hello to server (RFC 6455 5.7)", cfg: ParserConfig{Role: RoleServer}, raw: true,
		frames: []string{"8185 37fa213d 7f9f4d5158", "8a85 37fa213d 7f9f4d5158"}, want: []string{`text "Hello"`, `pong "Hello"`}},
	{name: "unmasked frame to server", cfg: ParserConfig{Role: RoleServer}, raw: true, frames: []string{"8105" + hello}, err: 1002},
	{name: "unmasked ping to server", cfg: ParserConfig{Role: RoleServer}, raw: true, frames: []string{"8900"}, err: 1002},
	{name: "masked frame to client", cfg: ParserConfig{Role: RoleClient}, raw: true, frames: []string{"8185 37fa213d 7f9f4d5158"}, err: 1002},
	{name: "masked empty close to client", cfg: ParserConfig{Role: RoleClient}, raw: true, frames: []string{"8880 00000000"}, err: 1002},

	// Failure is sticky.
	{name: "nothing after an error", frames: []string{"8300", "8101 61"}, err: 1002},
}

func TestParserConformance(t *testing.T) {
	for _, tc := range conformanceCases {
		roles := []Role{RoleClient, RoleServer}
		if tc.raw {
			roles = []Role{tc.cfg.Role}
		}
		for _, role := range roles {
			t.Run(tc.name+"/"+role.String(), func(t *testing.T) {
				cfg := tc.cfg
				cfg.Role = role
				var input []byte
				if tc.raw || role == RoleClient {
					input = unhex(t, strings.Join(tc.frames, ""))
				} else {
					input = toClientFrames(t, tc.frames)
				}
				whole := feed(t, cfg, input, 0)
				if !slices.Equal(whole.events, tc.want) || whole.err != tc.err {
					t.Fatalf("got %v\nwant events %q, err %d", whole, tc.want, tc.err)
				}
				if tc.err == 0 && len(whole.partial) != 0 {
					t.Fatalf("unfinished message %q", whole.partial)
				}
				for _, chunk := range []int{1, 2, 3, 7} {
					if got := feed(t, cfg, input, chunk); !sameTranscript(got, whole) {
						t.Fatalf("fed %d bytes at a time: %v\nwhole: %v", chunk, got, whole)
					}
				}
			})
		}
	}
}

// TestParserChunks checks the fields of data events as a frame arrives in
// pieces, and that the payload is unmasked in place.
func TestParserChunks(t *testing.T) {
	input := toClientFrames(t, []string{"010a 30313233343536373839", "8900", "8002 4142"})
	var p Parser
	p.Init(ParserConfig{Role: RoleServer})
	type want struct {
		typ                 EventType
		payload             string
		start, fin, end     bool
		remaining           int64
		inMessageAfterwards bool
	}
	// Feed: header and 3 bytes, 3 bytes, 4 bytes and the ping, the rest.
	cuts := []int{6 + 3, 3, 4 + 6, 8}
	wants := [][]want{
		{{EventData, "012", true, false, false, 7, true}},
		{{EventData, "345", false, false, false, 4, true}},
		{{EventData, "6789", false, false, false, 0, true}, {EventControl, "", false, false, false, 0, true}},
		{{EventData, "AB", false, true, true, 0, false}},
	}
	off := 0
	for i, cut := range cuts {
		b := input[off : off+cut]
		off += cut
		var got []want
		for {
			ev, n, err := p.Next(b)
			if err != nil {
				t.Fatalf("cut %d: %v", i, err)
			}
			if ev.Type == EventNone {
				break
			}
			got = append(got, want{ev.Type, string(ev.Payload), ev.MessageStart, ev.FrameFin, ev.MessageEnd, ev.FrameRemaining, p.InMessage()})
			if ev.Type == EventData && !bytes.Equal(b[n-len(ev.Payload):n], ev.Payload) {
				t.Errorf("cut %d: payload not unmasked in place", i)
			}
			b = b[n:]
		}
		if !slices.Equal(got, wants[i]) {
			t.Errorf("cut %d: got %+v, want %+v", i, got, wants[i])
		}
	}
}

// TestParserMaxChunk: with MaxChunk set, a frame's payload comes in events
// of at most MaxChunk bytes, each consuming and unmasking only its own
// bytes, so what a caller does not feed again is left as it arrived.
func TestParserMaxChunk(t *testing.T) {
	input := toClientFrames(t, []string{"020a 30313233343536373839", "8003 414243"})
	orig := bytes.Clone(input)
	var p Parser
	p.Init(ParserConfig{Role: RoleServer, MaxChunk: 4})
	var got []string
	b := input
	for len(b) > 0 {
		ev, n, err := p.Next(b)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Type != EventData {
			t.Fatalf("event %v", ev.Type)
		}
		got = append(got, string(ev.Payload))
		// Bytes not consumed yet are still masked, as sent.
		off := len(input) - len(b) + n
		if !bytes.Equal(input[off:], orig[off:]) {
			t.Fatalf("after %q: bytes beyond the event were changed", ev.Payload)
		}
		b = b[n:]
	}
	if want := []string{"0123", "4567", "89", "ABC"}; !slices.Equal(got, want) {
		t.Fatalf("chunks %q, want %q", got, want)
	}
}

func TestParserZeroLengthFrame(t *testing.T) {
	for _, role := range []Role{RoleServer, RoleClient} {
		input := unhex(t, "8100")
		if role == RoleServer {
			input = toClientFrames(t, []string{"8100"})
		}
		var p Parser
		p.Init(ParserConfig{Role: role})
		ev, n, err := p.Next(input)
		if err != nil || n != len(input) || ev.Type != EventData || ev.Payload == nil || len(ev.Payload) != 0 ||
			!ev.MessageStart || !ev.MessageEnd || !ev.FrameFin || ev.Opcode != OpText {
			t.Errorf("%v: Next = %+v, %d, %v", role, ev, n, err)
		}
		if ev, n, err := p.Next(input[n:]); ev.Type != EventNone || n != 0 || err != nil {
			t.Errorf("%v: second Next = %+v, %d, %v", role, ev, n, err)
		}
	}
}

func TestParserInit(t *testing.T) {
	var p Parser
	p.Init(ParserConfig{Role: RoleClient})
	if _, _, err := p.Next(unhex(t, "8300")); err == nil {
		t.Fatal("reserved opcode accepted")
	}
	p.Init(ParserConfig{Role: RoleClient})
	if ev, _, err := p.Next(unhex(t, "8101 61")); err != nil || string(ev.Payload) != "a" {
		t.Fatalf("after Init: %+v, %v", ev, err)
	}
	// The zero Parser is a server parser without limits.
	var z Parser
	if ev, _, err := z.Next(toClientFrames(t, []string{"8101 61"})); err != nil || string(ev.Payload) != "a" {
		t.Fatalf("zero Parser: %+v, %v", ev, err)
	}
}

func TestParserSize(t *testing.T) {
	if size := unsafe.Sizeof(Parser{}); size > 256 {
		t.Errorf("Parser is %d bytes, documented as under 256", size)
	}
}

func TestParserStrings(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{RoleServer.String(), "server"}, {RoleClient.String(), "client"}, {Role(7).String(), "role(7)"},
		{EventNone.String(), "none"}, {EventData.String(), "data"}, {EventControl.String(), "control"},
		{EventType(9).String(), "event(?)"},
	} {
		if tt.got != tt.want {
			t.Errorf("String() = %q, want %q", tt.got, tt.want)
		}
	}
}

// allocStream is a mix of frames a server reads: a masked 1 KiB text in two
// fragments with a ping between, 16 bytes of binary, an empty frame, a close.
func allocStream(t testing.TB) []byte {
	return toClientFrames(t, []string{
		"017e0200" + strings.Repeat("61", 512), "8903 010203", "807e0200" + strings.Repeat("62", 512),
		"8210" + strings.Repeat("ff", 16), "8200", "8805 03e8 627965",
	})
}

func TestParserAllocs(t *testing.T) {
	stream := allocStream(t)
	buf := make([]byte, len(stream))
	var p Parser
	for _, chunk := range []int{len(stream), 1, 5} {
		allocs := testing.AllocsPerRun(50, func() {
			p.Init(ParserConfig{Role: RoleServer, MaxMessageSize: 1 << 20, MaxFragments: 4})
			copy(buf, stream)
			events := 0
			for off := 0; off < len(buf); off += chunk {
				b := buf[off:min(off+chunk, len(buf))]
				for {
					ev, n, err := p.Next(b)
					if err != nil {
						panic(err)
					}
					if ev.Type == EventNone {
						break
					}
					if ev.MessageEnd || ev.Type == EventControl {
						events++
					}
					b = b[n:]
				}
			}
			if events != 5 {
				panic(fmt.Sprint("events: ", events))
			}
		})
		if allocs != 0 {
			t.Errorf("parsing fed %d bytes at a time: %v allocations per run, want 0", chunk, allocs)
		}
	}
}

func BenchmarkParser(b *testing.B) {
	cases := []struct {
		name   string
		role   Role
		frames []string
	}{
		{"masked-binary-16B", RoleServer, []string{"8210" + strings.Repeat("5a", 16)}},
		{"masked-binary-1KiB", RoleServer, []string{"827e0400" + strings.Repeat("5a", 1024)}},
		{"masked-text-1KiB", RoleServer, []string{"817e0400" + strings.Repeat("61", 1024)}},
		{"unmasked-binary-1KiB", RoleClient, []string{"827e0400" + strings.Repeat("5a", 1024)}},
	}
	for _, bc := range cases {
		var frame []byte
		if bc.role == RoleServer {
			frame = toClientFrames(b, bc.frames)
		} else {
			frame = unhex(b, strings.Join(bc.frames, ""))
		}
		buf := make([]byte, len(frame))
		var p Parser
		p.Init(ParserConfig{Role: bc.role})
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(frame)))
			b.ReportAllocs()
			for b.Loop() {
				copy(buf, frame) // unmasking is in place
				ev, _, err := p.Next(buf)
				if err != nil || !ev.MessageEnd {
					b.Fatal(ev, err)
				}
			}
		})
	}
}

// roundTripStream encodes payload as one message of frags fragments (text
// when it is UTF-8) with a ping after the first frame and a close at the
// end, using PutHeader and Mask, masked when a server is to read it.
func roundTripStream(payload []byte, frags int, role Role, key [4]byte) (wire []byte, want []string) {
	op := OpBinary
	if utf8.Valid(payload) {
		op = OpText
	}
	ping := payload[:min(len(payload), MaxControlPayload)]
	masked := role == RoleServer
	put := func(h Header, p []byte) {
		h.Masked, h.Mask, h.Length = masked, key, int64(len(p))
		var hdr [MaxHeaderSize]byte
		wire = append(wire, hdr[:PutHeader(hdr[:], h)]...)
		start := len(wire)
		wire = append(wire, p...)
		if masked {
			Mask(key, 0, wire[start:])
		}
	}
	for i := range frags {
		h := Header{Fin: i == frags-1, Opcode: OpContinuation}
		if i == 0 {
			h.Opcode = op
		}
		put(h, payload[i*len(payload)/frags:(i+1)*len(payload)/frags])
		if i == 0 {
			put(Header{Fin: true, Opcode: OpPing}, ping)
		}
	}
	put(Header{Fin: true, Opcode: OpClose}, AppendClosePayload(nil, CloseGoingAway, "bye"))
	want = []string{fmt.Sprintf("ping %q", ping), fmt.Sprintf("%s %q", op, payload), `close 1001 "bye"`}
	if frags == 1 { // the ping follows the whole message
		want[0], want[1] = want[1], want[0]
	}
	return wire, want
}

func FuzzParser(f *testing.F) {
	f.Add(unhex(f, "8105"+hello), uint8(1))
	f.Add(unhex(f, "818537fa213d7f9f4d5158"), uint8(0))
	f.Add(unhex(f, "0103 48656c 8905"+hello+" 8002 6c6f"), uint8(0x31))
	f.Add(unhex(f, "c102 fffe 4101 ff 8001 fe"), uint8(3))
	f.Add(unhex(f, "0102 e282 8000"), uint8(0x11))
	f.Add(unhex(f, "827f8000000000000000"), uint8(5))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		// Arbitrary input: every cutting gives the same result.
		cfg := ParserConfig{Role: Role(mode & 1), AllowRSV1: mode&2 != 0}
		if mode&4 != 0 {
			cfg.MaxMessageSize, cfg.MaxFragments = 100, 4
		}
		whole := feed(t, cfg, data, 0)
		for _, chunk := range []int{1, 7} {
			if got := feed(t, cfg, data, chunk); !sameTranscript(got, whole) {
				t.Fatalf("fed %d bytes at a time: %v\nwhole: %v", chunk, got, whole)
			}
		}

		// Round trip: frames written with PutHeader and Mask parse back.
		role := Role(mode >> 3 & 1)
		frags := 1 + int(mode>>4)
		key := [4]byte{mode, ^mode, 0x5A, byte(len(data))}
		wire, want := roundTripStream(data, frags, role, key)
		for _, chunk := range []int{0, 1, 5} {
			got := feed(t, ParserConfig{Role: role}, wire, chunk)
			if !slices.Equal(got.events, want) || got.err != 0 || len(got.partial) != 0 {
				t.Fatalf("round trip fed %d at a time: %v\nwant %q", chunk, got, want)
			}
		}
	})
}

func ExampleParser() {
	// What a server reads: a masked "Hello" (RFC 6455 section 5.7).
	wire, _ := hex.DecodeString("818537fa213d7f9f4d5158")
	var p Parser
	p.Init(ParserConfig{Role: RoleServer})
	for b := wire; ; {
		ev, n, err := p.Next(b)
		if err != nil {
			fmt.Println("close with", err.(*ProtocolError).Code)
			return
		}
		if ev.Type == EventNone {
			break
		}
		fmt.Printf("%v %v %q end=%v\n", ev.Type, ev.Opcode, ev.Payload, ev.MessageEnd)
		b = b[n:]
	}
	// Output: data text "Hello" end=true
}
