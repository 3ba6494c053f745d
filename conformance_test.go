package lws_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/wsproto"
)

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

var zeroKey = [4]byte{}

// TestServerConformance sends raw frames breaking RFC 6455's rules and
// checks the close code; each case is sent whole and one byte at a time.
func TestServerConformance(t *testing.T) {
	bigPing := bytes.Repeat([]byte{'p'}, 126)
	// Data is delivered (and so echoed) piece by piece as it arrives, so
	// what precedes the offending bytes comes back before the close.
	cases := []struct {
		name  string
		send  []byte
		code  int
		reply [][]byte // expected data/pong payloads before the close, in order
		// byteReply, when set, is the most that may come back (concatenated)
		// when the input arrives one byte at a time: the valid part of a
		// frame can be delivered before its bad byte arrives, depending on
		// how the bytes coalesce in TCP.
		byteReply []byte
	}{
		{name: "rsv1 without extension", send: frame(0xC1, key1, []byte("hi")), code: 1002},
		{name: "rsv2", send: frame(0xA1, key1, []byte("hi")), code: 1002},
		{name: "rsv3", send: frame(0x91, key1, []byte("hi")), code: 1002},
		{name: "reserved data opcode 3", send: frame(0x83, key1, nil), code: 1002},
		{name: "reserved control opcode 0xB", send: frame(0x8B, key1, nil), code: 1002},
		{name: "unmasked client frame", send: []byte{0x81, 0x02, 'h', 'i'}, code: 1002},
		{name: "ping over 125 bytes", send: frame(0x89, key1, bigPing), code: 1002},
		{name: "fragmented ping", send: frame(0x09, key1, []byte("x")), code: 1002},
		{name: "continuation without start", send: frame(0x80, key1, []byte("x")), code: 1002},
		{name: "new message inside fragmented one", send: cat(frame(0x01, key1, []byte("a")), frame(0x81, key1, []byte("b"))), reply: [][]byte{[]byte("a")}, code: 1002},
		{name: "close code 999", send: frame(0x88, key1, []byte{0x03, 0xE7}), code: 1002},
		{name: "close code 1005 on the wire", send: frame(0x88, key1, []byte{0x03, 0xED}), code: 1002},
		{name: "close code 1016", send: frame(0x88, key1, []byte{0x03, 0xF8}), code: 1002},
		{name: "close with 1-byte payload", send: frame(0x88, key1, []byte{0x03}), code: 1002},
		{name: "close reason bad utf-8", send: frame(0x88, key1, []byte{0x03, 0xE8, 0xff}), code: 1007},
		{name: "bad utf-8 in one frame", send: frame(0x81, key1, []byte{'a', 0xff}), byteReply: []byte("a"), code: 1007},
		{name: "bad utf-8 split across fragments", send: cat(frame(0x01, key1, []byte{'a', 0xE2, 0x82}), frame(0x80, key1, []byte{0x41})), reply: [][]byte{{'a', 0xE2, 0x82}}, code: 1007},
		{name: "utf-8 sequence unfinished at end", send: cat(frame(0x01, key1, []byte{'a'}), frame(0x80, key1, []byte{0xE2, 0x82})), reply: [][]byte{[]byte("a")}, byteReply: []byte("a\xe2\x82"), code: 1007},
		{name: "64-bit length with top bit", send: []byte{0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}, code: 1002},
		{name: "message over the limit", send: []byte{0x82, 0xFE, 0x08, 0x00, 1, 2, 3, 4}, code: 1009}, // announces 2048 > 1024
		{name: "1-byte fragments beyond MaxFragments", send: cat(frame(0x02, key1, []byte("a")), frame(0x00, key1, []byte("b")), frame(0x00, key1, []byte("c")), frame(0x00, key1, []byte("d")), frame(0x00, key1, []byte("e")), frame(0x80, key1, []byte("f")), frame(0x88, key1, []byte{0x03, 0xE8})), reply: [][]byte{[]byte("a"), []byte("b"), []byte("c"), []byte("d"), []byte("e"), []byte("f")}, code: 1000},
		{name: "empty fragments over the limit", send: cat(frame(0x02, key1, []byte("a")), frame(0x00, key1, nil), frame(0x00, key1, nil), frame(0x00, key1, nil), frame(0x00, key1, nil), frame(0x00, key1, nil)), reply: [][]byte{[]byte("a"), {}, {}, {}, {}}, code: 1009},
		{
			name:  "ping inside a fragmented message is answered",
			send:  cat(frame(0x01, key1, []byte("he")), frame(0x89, key1, []byte("p!")), frame(0x80, key1, []byte("llo")), frame(0x88, key1, []byte{0x03, 0xE8})),
			reply: [][]byte{[]byte("he"), []byte("p!"), []byte("llo")},
			code:  1000,
		},
		{name: "close echoed with code and reason", send: frame(0x88, key1, []byte("\x0f\xa0bye")), code: 4000},
		{name: "valid split utf-8 then close", send: cat(frame(0x01, key1, []byte{0xE2, 0x82}), frame(0x80, key1, []byte{0xAC}), frame(0x88, key1, []byte{0x03, 0xE8})), reply: [][]byte{{0xE2, 0x82}, {0xAC}}, code: 1000},
		{name: "zero key masking", send: cat(frame(0x82, zeroKey, []byte{1, 2, 3}), frame(0x88, zeroKey, []byte{0x03, 0xE8})), reply: [][]byte{{1, 2, 3}}, code: 1000},
	}
	svc := startService(t, lws.Config{
		Protocols: []*lws.Protocol{echoProtocol("echo")},
		Limits:    lws.Limits{MaxMessageSize: 1024, MaxFragments: 4},
	})
	for _, tc := range cases {
		for _, byByte := range []bool{false, true} {
			name := tc.name
			if byByte {
				name += "/byte-at-a-time"
			}
			t.Run(name, func(t *testing.T) {
				c := dialWS(t, svc, "")
				if byByte {
					for i := range tc.send {
						if _, err := c.Write(tc.send[i : i+1]); err != nil {
							// The server may fail the connection before the
							// last bytes: it is allowed to once certain.
							break
						}
					}
				} else if _, err := c.Write(tc.send); err != nil {
					t.Fatalf("write: %v", err)
				}
				var got [][]byte
				for {
					f, err := c.readFrame(t)
					if err != nil {
						t.Fatalf("read: %v (got %q so far)", err, got)
					}
					if f.op == 8 {
						code := 0
						if len(f.payload) >= 2 {
							code = int(f.payload[0])<<8 | int(f.payload[1])
						}
						if code != tc.code {
							t.Fatalf("close code %d (%q), want %d", code, f.payload, tc.code)
						}
						break
					}
					got = append(got, f.payload)
				}
				if byByte && tc.byteReply != nil {
					if !bytes.HasPrefix(tc.byteReply, bytes.Join(got, nil)) {
						t.Fatalf("replies %q, want a prefix of %q", got, tc.byteReply)
					}
				} else if byByte && len(tc.reply) > 0 {
					// Pieces may arrive split differently when fed a byte
					// at a time: compare the concatenation.
					if !bytes.Equal(bytes.Join(got, nil), bytes.Join(tc.reply, nil)) {
						t.Fatalf("replies %q, want %q", got, tc.reply)
					}
				} else if len(got) != len(tc.reply) || !bytes.Equal(bytes.Join(got, nil), bytes.Join(tc.reply, nil)) {
					t.Fatalf("replies %q, want %q", got, tc.reply)
				}
			})
		}
	}
}

// TestBadUTF8FailsBeforeMessageEnds checks 1007 comes as soon as the UTF-8
// is certainly broken, while the message is still open.
func TestBadUTF8FailsBeforeMessageEnds(t *testing.T) {
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{echoProtocol("echo")}})
	c := dialWS(t, svc, "")
	// A fragment without FIN ending in an impossible byte: the message is
	// not finished, but no continuation can make it valid.
	c.Write(frame(0x01, key1, []byte{'o', 'k', 0xC0}))
	if code, _ := c.expectClose(t); code != 1007 {
		t.Fatalf("close code %d, want 1007", code)
	}
}

// TestCloseEcho checks the server answers a close with the same code and
// reason, and an empty close with an empty one.
func TestCloseEcho(t *testing.T) {
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{echoProtocol("echo")}})
	c := dialWS(t, svc, "")
	c.Write(frame(0x88, key1, []byte("\x03\xe8see you")))
	if code, reason := c.expectClose(t); code != 1000 || reason != "see you" {
		t.Fatalf("echo: %d %q", code, reason)
	}
	c = dialWS(t, svc, "")
	c.Write(frame(0x88, key1, nil))
	if code, _ := c.expectClose(t); code != 0 {
		t.Fatalf("empty close answered with code %d, want an empty close", code)
	}
}

// TestServerCloseTimeout checks a peer that never answers our close is cut
// off after Limits.CloseTimeout.
func TestServerCloseTimeout(t *testing.T) {
	closed := make(chan struct{})
	p := &lws.Protocol{
		Name:          "closer",
		OnEstablished: func(c *lws.Conn) { c.Close(1000, "bye") },
		OnClosed:      func(*lws.Conn, wsproto.CloseCode, string) { close(closed) },
	}
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{p}, Limits: lws.Limits{CloseTimeout: 200 * time.Millisecond}})
	c := dialWS(t, svc, "")
	f, err := c.readFrame(t)
	if err != nil || f.op != 8 {
		t.Fatalf("want close frame, got %v %v", f, err)
	}
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("connection not closed after the close timeout")
	}
}
