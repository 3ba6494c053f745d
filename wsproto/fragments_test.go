package wsproto

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

// fragmentedMessage encodes payload as one message of frames carrying
// fragSize bytes each (the last one the rest), masked when a server is to
// read it. long64 writes every length in the 64-bit form, as a sender may.
func fragmentedMessage(op Opcode, payload []byte, fragSize int, role Role, long64 bool) []byte {
	key := [4]byte{0x9c, 0x01, 0x7e, 0x42}
	masked := role == RoleServer
	wire := make([]byte, 0, len(payload)+(len(payload)/fragSize+1)*MaxHeaderSize)
	for off := 0; off == 0 || off < len(payload); off += fragSize {
		end := min(off+fragSize, len(payload))
		h := Header{Fin: end == len(payload), Opcode: OpContinuation, Masked: masked, Mask: key, Length: int64(end - off)}
		if off == 0 {
			h.Opcode = op
		}
		if long64 {
			b0 := byte(h.Opcode)
			if h.Fin {
				b0 |= 0x80
			}
			b1 := byte(127)
			if masked {
				b1 |= 0x80
			}
			wire = binary.BigEndian.AppendUint64(append(wire, b0, b1), uint64(h.Length))
			if masked {
				wire = append(wire, key[:]...)
			}
		} else {
			wire = AppendHeader(wire, h)
		}
		start := len(wire)
		wire = append(wire, payload[off:end]...)
		if masked {
			Mask(key, 0, wire[start:])
		}
	}
	return wire
}

// parseOneMessage feeds wire to p in reads of readSize bytes and returns
// the message payload it delivered, the data events, and the error.
func parseOneMessage(p *Parser, wire []byte, readSize int) (msg []byte, events int, ended bool, err error) {
	for off := 0; off < len(wire); off += readSize {
		b := wire[off:min(off+readSize, len(wire))]
		for {
			ev, n, err := p.Next(b)
			if err != nil {
				return msg, events, ended, err
			}
			if ev.Type == EventNone {
				break
			}
			if ev.Type == EventData {
				events++
				msg = append(msg, ev.Payload...)
				ended = ev.MessageEnd
			}
			b = b[n:]
		}
	}
	return msg, events, ended, nil
}

// TestParserFragmentationNeverRefusesALegalMessage is Autobahn|Testsuite's
// cases with the most frames, 9.3.1 and 9.3.2 (text) and 9.4.1 and 9.4.2
// (binary), at the frame parser: a 4 MiB message in fragments of 64 and
// 256 bytes, read with the message size cap at exactly 4 MiB and the
// strictest fragment bound (1), in both roles. Finer splits too: 1-byte
// fragments, and 1-byte fragments whose lengths use the 64-bit form. Each
// must arrive whole. (Every 9.3 and 9.4 case runs through a Service in
// the root package's TestAutobahnFragmentedMessages tests.)
func TestParserFragmentationNeverRefusesALegalMessage(t *testing.T) {
	const size = 4 << 20
	// Text with 2- and 3-byte sequences, which the fragments cut apart.
	unit := "Autobahn \u00e9t\u00e9 \u20ac "
	reps := strings.Repeat(unit, size/len(unit))
	text := []byte(reps + strings.Repeat("x", size-len(reps)))
	binary := make([]byte, size)
	for i := range binary {
		binary[i] = byte(i * 7)
	}
	type row struct {
		name     string
		op       Opcode
		payload  []byte
		fragSize int
		long64   bool
	}
	var rows []row
	for i, fs := range []int{64, 256} {
		rows = append(rows,
			row{fmt.Sprintf("9.3.%d text in %d-byte fragments", i+1, fs), OpText, text, fs, false},
			row{fmt.Sprintf("9.4.%d binary in %d-byte fragments", i+1, fs), OpBinary, binary, fs, false})
	}
	rows = append(rows,
		row{"256 KiB text in 1-byte fragments", OpText, text[:256<<10], 1, false},
		row{"64 KiB binary in 1-byte fragments with 64-bit lengths", OpBinary, binary[:64<<10], 1, true})
	for _, r := range rows {
		for _, role := range []Role{RoleServer, RoleClient} {
			t.Run(r.name+"/"+role.String(), func(t *testing.T) {
				wire := fragmentedMessage(r.op, r.payload, r.fragSize, role, r.long64)
				var p Parser
				p.Init(ParserConfig{Role: role, MaxMessageSize: size, MaxFragments: 1})
				got, events, ended, err := parseOneMessage(&p, wire, 64<<10)
				if err != nil {
					t.Fatalf("refused after %d data events: %v", events, err)
				}
				if !ended || !bytes.Equal(got, r.payload) {
					t.Fatalf("message ended %v, %d bytes, equal %v", ended, len(got), bytes.Equal(got, r.payload))
				}
				if frames := (len(r.payload) + r.fragSize - 1) / r.fragSize; events < frames {
					t.Fatalf("%d data events for %d frames", events, frames)
				}
			})
		}
	}
}

// TestParserFragmentFlood: frames that bring a message no closer to its end
// are refused with 1009 as soon as they exceed the bound, having cost a
// few bytes each; so are 1-byte fragments past the message size cap.
func TestParserFragmentFlood(t *testing.T) {
	const maxFragments = 1024
	empties := func(first []byte, n int) (payload []byte, frags []int) {
		frags = []int{len(first)}
		for range n {
			frags = append(frags, 0)
		}
		return first, frags
	}
	type row struct {
		name     string
		maxSize  int64
		payload  []byte
		frags    []int // payload bytes per frame, in order; the last has FIN
		accepted int   // frames accepted before the 1009
	}
	ones := func(n int) []int {
		f := make([]int, n)
		for i := range f {
			f[i] = 1
		}
		return f
	}
	rows := []row{
		func() row {
			p, f := empties(nil, 100000)
			return row{"empty fragments", 16 << 20, p, f, maxFragments}
		}(),
		func() row {
			p, f := empties([]byte("x"), 100000)
			return row{"one byte then empty fragments", 16 << 20, p, f, maxFragments + 1}
		}(),
		func() row {
			p, f := empties(bytes.Repeat([]byte("y"), 4096), 100000)
			return row{"a 4 KiB fragment then empty fragments", 16 << 20, p, f, 4096 + maxFragments}
		}(),
		{"1-byte fragments past the size cap", 4096, bytes.Repeat([]byte("z"), 5000), ones(5000), 4096},
	}
	for _, r := range rows {
		for _, role := range []Role{RoleServer, RoleClient} {
			t.Run(r.name+"/"+role.String(), func(t *testing.T) {
				key := [4]byte{1, 2, 3, 4}
				var wire []byte
				off := 0
				for i, n := range r.frags {
					h := Header{Fin: i == len(r.frags)-1, Opcode: OpContinuation, Masked: role == RoleServer, Mask: key, Length: int64(n)}
					if i == 0 {
						h.Opcode = OpBinary
					}
					wire = AppendHeader(wire, h)
					start := len(wire)
					wire = append(wire, r.payload[off:off+n]...)
					if h.Masked {
						Mask(key, 0, wire[start:])
					}
					off += n
				}
				var p Parser
				p.Init(ParserConfig{Role: role, MaxMessageSize: r.maxSize, MaxFragments: maxFragments})
				b := wire
				frames, consumed := 0, 0
				var err error
				for err == nil {
					var ev Event
					var n int
					ev, n, err = p.Next(b)
					if err == nil {
						if ev.Type == EventNone {
							t.Fatalf("the whole flood of %d frames was accepted", len(r.frags))
						}
						if ev.Type == EventData && ev.FrameRemaining == 0 {
							frames++
						}
						b = b[n:]
						consumed += n
					}
				}
				pe, ok := err.(*ProtocolError)
				if !ok || pe.Code != CloseMessageTooBig {
					t.Fatalf("error %v, want 1009", err)
				}
				if frames != r.accepted {
					t.Fatalf("1009 after %d frames, want after %d", frames, r.accepted)
				}
				t.Logf("1009 %q after %d frames, %d bytes", pe.Reason, frames, consumed)
			})
		}
	}
}
