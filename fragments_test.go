package lws_test

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/lws-go/lws"
)

// seedClient is the seed's (README.coding) example of gathering a
// fragmented message, translated to Go as a user would write it:
//
//	remaining := c.RemainingPayload()
//	if remaining == 0 && c.IsFinalFragment() {
//		if client.HasFragments() { append; use the whole message }
//		client.ProcessMessage(in); client.ResetMessage()
//	} else {
//		client.AppendMessageFragment(in, remaining)
//	}
type seedClient struct {
	msg      []byte
	has      bool
	messages [][]byte
	binary   []bool
	pieces   []int // receive callbacks per message
	n        int
	maxPiece int
	badState string
}

func (cl *seedClient) HasFragments() bool { return cl.has }
func (cl *seedClient) AppendMessageFragment(in []byte, remaining int64) {
	if cl.msg == nil {
		cl.msg = make([]byte, 0, len(in)+int(remaining))
	}
	cl.msg = append(cl.msg, in...)
	cl.has = true
}
func (cl *seedClient) GetMessage() []byte { return cl.msg }
func (cl *seedClient) ProcessMessage(in []byte, c *lws.Conn) {
	cl.messages = append(cl.messages, append([]byte(nil), in...))
	cl.binary = append(cl.binary, c.IsBinary())
	cl.pieces = append(cl.pieces, cl.n)
}
func (cl *seedClient) ResetMessage() { cl.msg, cl.has, cl.n = nil, false, 0 }

func seedProtocol(rxBuf int, got chan<- *seedClient) *lws.Protocol {
	return &lws.Protocol{
		Name:          "seed",
		RxBufferSize:  rxBuf,
		OnEstablished: func(c *lws.Conn) { c.SetUser(&seedClient{}) },
		OnReceive: func(c *lws.Conn, in []byte) {
			client := c.User().(*seedClient)
			client.n++
			client.maxPiece = max(client.maxPiece, len(in))
			remaining := c.RemainingPayload()
			if remaining < 0 {
				client.badState = "negative RemainingPayload"
			}
			if c.IsFinalFragment() && remaining != 0 {
				client.badState = "final fragment with payload remaining"
			}
			if remaining == 0 && c.IsFinalFragment() {
				if client.HasFragments() {
					client.AppendMessageFragment(in, 0)
					in = client.GetMessage()
				}
				client.ProcessMessage(in, c)
				client.ResetMessage()
				if bytes.Equal(in, []byte("done")) {
					got <- client
				}
			} else {
				client.AppendMessageFragment(in, remaining)
			}
		},
	}
}

// TestReceiveFragmentsSeedExample: messages of one or many frames, each
// frame larger or smaller than the rx buffer, sent whole or one byte at a
// time, are put together again by the seed's example; no piece exceeds
// RxBufferSize, and a frame bigger than the buffer arrives in several
// pieces (libwebsockets' spill).
func TestReceiveFragmentsSeedExample(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	type msg struct {
		binary bool
		frames [][]byte
	}
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return b
	}
	text := func(n int) []byte { return bytes.Repeat([]byte("fragé"), n) } // 6 bytes each
	msgs := []msg{
		{true, [][]byte{random(10)}},
		{true, [][]byte{random(3000)}},                         // one frame, several pieces
		{true, [][]byte{random(100), random(5000), random(1)}}, // small, large, tiny frames
		{false, [][]byte{text(100), text(1), text(300)}},       // UTF-8, split on sequence boundaries
		{true, [][]byte{{}, random(1500), {}}},                 // empty first and last frames
		{false, [][]byte{[]byte("")}},                          // empty message
		{true, [][]byte{random(70000)}},                        // 64-bit length
	}
	for i := 0; i < 10; i++ {
		var m msg
		m.binary = true
		for f := rng.IntN(6) + 1; f > 0; f-- {
			m.frames = append(m.frames, random(rng.IntN(4000)))
		}
		msgs = append(msgs, m)
	}
	msgs = append(msgs, msg{false, [][]byte{[]byte("do"), []byte("ne")}})

	var wire []byte
	for _, m := range msgs {
		for i, f := range m.frames {
			var b0 byte
			if i == 0 {
				b0 = 2
				if !m.binary {
					b0 = 1
				}
			}
			if i == len(m.frames)-1 {
				b0 |= 0x80
			}
			wire = append(wire, frame(b0, key1, f)...)
		}
	}
	for _, rxBuf := range []int{1, 100, 1024, 65536} {
		for _, byByte := range []bool{false, true} {
			if byByte && rxBuf != 1024 {
				continue
			}
			got := make(chan *seedClient, 1)
			svc := startService(t, lws.Config{Protocols: []*lws.Protocol{seedProtocol(rxBuf, got)}})
			c := dialWS(t, svc, "seed")
			if byByte {
				for i := range wire {
					c.Write(wire[i : i+1])
				}
			} else {
				c.Write(wire)
			}
			var cl *seedClient
			select {
			case cl = <-got:
			case <-time.After(30 * time.Second):
				t.Fatalf("rx buffer %d: the last message never arrived", rxBuf)
			}
			if cl.badState != "" {
				t.Fatalf("rx buffer %d: %s", rxBuf, cl.badState)
			}
			if len(cl.messages) != len(msgs) {
				t.Fatalf("rx buffer %d: %d messages, want %d", rxBuf, len(cl.messages), len(msgs))
			}
			for i, m := range msgs {
				want := bytes.Join(m.frames, nil)
				if !bytes.Equal(cl.messages[i], want) || cl.binary[i] != m.binary {
					t.Fatalf("rx buffer %d: message %d differs (%d bytes, binary %v; want %d, %v)", rxBuf, i, len(cl.messages[i]), cl.binary[i], len(want), m.binary)
				}
				// Without coalescing across frames, at least one piece
				// per rx buffer's worth of each frame.
				minPieces := 0
				for _, f := range m.frames {
					minPieces += max(1, (len(f)+rxBuf-1)/rxBuf)
				}
				if !byByte && cl.pieces[i] < minPieces {
					t.Fatalf("rx buffer %d: message %d came in %d pieces, want at least %d", rxBuf, i, cl.pieces[i], minPieces)
				}
			}
			if cl.maxPiece > rxBuf {
				t.Fatalf("rx buffer %d: a piece of %d bytes", rxBuf, cl.maxPiece)
			}
			svc.Close()
		}
	}
}

// TestReassembleLimit: with Protocol.Reassemble, OnReceive gets whole
// messages (as many frames as the sender used); a message over
// MaxMessageSize closes with 1009, whether announced in one frame or
// reached by fragments.
func TestReassembleLimit(t *testing.T) {
	var got [][]byte
	var final []bool
	done := make(chan struct{}, 10)
	p := &lws.Protocol{
		Name:           "whole",
		Reassemble:     true,
		RxBufferSize:   16, // ignored for whole messages
		MaxMessageSize: 1000,
		OnReceive: func(c *lws.Conn, data []byte) {
			got = append(got, append([]byte(nil), data...))
			final = append(final, c.IsFinalFragment() && c.RemainingPayload() == 0)
			done <- struct{}{}
		},
	}
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{p}})

	c := dialWS(t, svc, "whole")
	a, b := bytes.Repeat([]byte{'a'}, 400), bytes.Repeat([]byte{'b'}, 600)
	c.Write(cat(frame(0x02, key1, a), frame(0x89, key1, []byte("ping")), frame(0x80, key1, b)))
	<-done
	if len(got) != 1 || !bytes.Equal(got[0], cat(a, b)) || !final[0] {
		t.Fatalf("whole message of 1000 bytes: got %d messages", len(got))
	}
	if f, err := c.readFrame(t); err != nil || f.op != 10 || string(f.payload) != "ping" {
		t.Fatalf("pong: %v %v", f, err)
	}

	for name, wire := range map[string][]byte{
		"fragments":   cat(frame(0x02, key1, a), frame(0x00, key1, a), frame(0x80, key1, a)),
		"one frame":   frame(0x82, key1, bytes.Repeat([]byte{'x'}, 1001)),
		"small first": cat(frame(0x01, key1, []byte("x")), frame(0x80, key1, bytes.Repeat([]byte{'y'}, 1000))),
	} {
		c := dialWS(t, svc, "whole")
		c.Write(wire)
		if code, _ := c.expectClose(t); code != 1009 {
			t.Errorf("%s over the cap: close %d, want 1009", name, code)
		}
	}
	if len(got) != 1 {
		t.Errorf("messages over the cap were delivered: %d deliveries", len(got))
	}
}

// TestWriteFragments: a message sent as start, continuation and final
// frames, with PINGs and a PONG between them, goes out as exactly those
// frames, in order.
func TestWriteFragments(t *testing.T) {
	p := &lws.Protocol{
		Name: "frag",
		OnReceive: func(c *lws.Conn, data []byte) {
			steps := []struct {
				data string
				mode lws.WriteMode
			}{
				{"start-", lws.WriteBinary | lws.WriteNoFin},
				{"p1", lws.WritePing},
				{"middle-", lws.WriteContinuation | lws.WriteNoFin},
				{"p2", lws.WritePong},
				{"", lws.WriteContinuation | lws.WriteNoFin},
				{"end", lws.WriteContinuation},
				{"after", lws.WriteText},
			}
			for _, s := range steps {
				if err := c.Write([]byte(s.data), s.mode); err != nil {
					c.Write([]byte("error: "+err.Error()), lws.WriteText)
				}
			}
		},
	}
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{p}})
	c := dialWS(t, svc, "frag")
	c.Write(frame(0x81, key1, []byte("go")))
	want := []struct {
		fin  bool
		op   byte
		data string
	}{{false, 2, "start-"}, {true, 9, "p1"}, {false, 0, "middle-"}, {true, 10, "p2"}, {false, 0, ""}, {true, 0, "end"}, {true, 1, "after"}}
	for i, w := range want {
		f, err := c.readFrame(t)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if f.fin != w.fin || f.op != w.op || string(f.payload) != w.data {
			t.Fatalf("frame %d: %v, want fin %v op %d %q", i, f, w.fin, w.op, w.data)
		}
	}
}
