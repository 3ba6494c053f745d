package lws_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/wsproto"
)

// autobahnFragmentCase is one of Autobahn|Testsuite's cases 9.3.x (text)
// and 9.4.x (binary), a 4 MiB message sent in fragments of one size, or
// a finer split of a smaller message.
type autobahnFragmentCase struct {
	id       string
	op       wsproto.Opcode
	size     int
	fragSize int
}

func autobahnFragmentCases() []autobahnFragmentCase {
	var cases []autobahnFragmentCase
	for i, fs := range []int{64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20} {
		cases = append(cases,
			autobahnFragmentCase{fmt.Sprintf("9.3.%d", i+1), wsproto.OpText, 4 << 20, fs},
			autobahnFragmentCase{fmt.Sprintf("9.4.%d", i+1), wsproto.OpBinary, 4 << 20, fs})
	}
	// 2^20 frames: more than any fixed count of frames a message could be
	// allowed without refusing legal senders.
	return append(cases, autobahnFragmentCase{"finer", wsproto.OpBinary, 1 << 20, 1})
}

// autobahnPayload is the message of a case: ASCII text with 2- and 3-byte
// UTF-8 sequences that fragments cut apart, or varied bytes.
func autobahnPayload(op wsproto.Opcode, size int) []byte {
	if op == wsproto.OpText {
		unit := "fragment \u00e9t\u00e9 \u20ac "
		s := strings.Repeat(unit, size/len(unit))
		return []byte(s + strings.Repeat("x", size-len(s)))
	}
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(i*13 + i>>8)
	}
	return b
}

// fragmentFrames encodes payload as one message of fragSize-byte frames:
// masked with key (what a client sends) when masked, else as a server
// sends them.
func fragmentFrames(op wsproto.Opcode, payload []byte, fragSize int, masked bool) []byte {
	wire := make([]byte, 0, len(payload)+(len(payload)/fragSize+1)*wsproto.MaxHeaderSize)
	for off := 0; off < len(payload); off += fragSize {
		end := min(off+fragSize, len(payload))
		b0 := byte(wsproto.OpContinuation)
		if off == 0 {
			b0 = byte(op)
		}
		if end == len(payload) {
			b0 |= 0x80
		}
		if masked {
			wire = append(wire, frame(b0, key1, payload[off:end])...)
		} else {
			wire = append(wire, unmasked(b0, payload[off:end])...)
		}
	}
	return wire
}

func digest(b []byte) string { return fmt.Sprintf("%d %x", len(b), sha256.Sum256(b)) }

// TestAutobahnFragmentedMessagesServer: a service with the default Limits
// receives each 9.3.x/9.4.x message whole; it answers with the message's
// length and SHA-256, which must match what was sent.
func TestAutobahnFragmentedMessagesServer(t *testing.T) {
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{{
		Name:       "digest",
		Reassemble: true,
		OnReceive: func(c *lws.Conn, msg []byte) {
			c.Write([]byte(fmt.Sprintf("%v %s", c.IsBinary(), digest(msg))), lws.WriteText)
		},
	}}})
	for _, tc := range autobahnFragmentCases() {
		t.Run(fmt.Sprintf("%s %d-byte %v in %d-byte fragments", tc.id, tc.size, tc.op, tc.fragSize), func(t *testing.T) {
			payload := autobahnPayload(tc.op, tc.size)
			rc := dialWS(t, svc, "digest")
			go rc.Write(fragmentFrames(tc.op, payload, tc.fragSize, true))
			f, err := rc.readFrame(t)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			if want := fmt.Sprintf("%v %s", tc.op == wsproto.OpBinary, digest(payload)); f.op != 1 || string(f.payload) != want {
				t.Fatalf("answer %v, want text %q", f, want)
			}
		})
	}
}

// TestAutobahnFragmentedMessagesClient: a client made by Dial with default
// options receives each 9.3.x/9.4.x message whole from a raw server.
func TestAutobahnFragmentedMessagesClient(t *testing.T) {
	for _, tc := range autobahnFragmentCases() {
		t.Run(fmt.Sprintf("%s %d-byte %v in %d-byte fragments", tc.id, tc.size, tc.op, tc.fragSize), func(t *testing.T) {
			payload := autobahnPayload(tc.op, tc.size)
			addr := rawServer(t, func(c net.Conn, r *bufio.Reader, req *http.Request) {
				resp := head101 + "Sec-WebSocket-Accept: " + accept(req) + "\r\n\r\n"
				c.Write(append([]byte(resp), fragmentFrames(tc.op, payload, tc.fragSize, false)...))
				for { // until the client closes
					if op, _, _ := readClientFrame(t, r); op == wsproto.OpClose || t.Failed() {
						return
					}
				}
			})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cc, err := lws.Dial(ctx, "ws://"+addr+"/", nil)
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer cc.Close(wsproto.CloseNormal, "")
			op, got, err := cc.ReadMessage(ctx)
			if err != nil || (op == lws.WriteBinary) != (tc.op == wsproto.OpBinary) || !bytes.Equal(got, payload) {
				t.Fatalf("ReadMessage: %v, %d bytes (equal %v), %v", op, len(got), bytes.Equal(got, payload), err)
			}
		})
	}
}

// TestEmptyFragmentFlood: with the default Limits, a message of empty
// fragments is refused with 1009 in both roles, long before the flood ends.
func TestEmptyFragmentFlood(t *testing.T) {
	const flood = 200000 // frames sent; the default bound is 65536
	t.Run("server", func(t *testing.T) {
		svc := startService(t, lws.Config{Protocols: []*lws.Protocol{echoProtocol("echo")}})
		rc := dialWS(t, svc, "echo")
		go func() {
			wire := frame(0x02, key1, nil)
			for range flood {
				wire = append(wire, frame(0x00, key1, nil)...)
			}
			rc.Write(wire) // fails once the server has closed
		}()
		if code, reason := rc.expectClose(t); code != 1009 {
			t.Fatalf("close %d %q, want 1009", code, reason)
		}
	})
	t.Run("client", func(t *testing.T) {
		closed := make(chan int, 1)
		addr := rawServer(t, func(c net.Conn, r *bufio.Reader, req *http.Request) {
			resp := head101 + "Sec-WebSocket-Accept: " + accept(req) + "\r\n\r\n"
			wire := append([]byte(resp), unmasked(0x02, nil)...)
			for range flood {
				wire = append(wire, unmasked(0x00, nil)...)
			}
			go c.Write(wire)
			for {
				op, payload, _ := readClientFrame(t, r)
				if t.Failed() {
					return
				}
				if op == wsproto.OpClose {
					closed <- int(binary.BigEndian.Uint16(payload))
					return
				}
			}
		})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cc, err := lws.Dial(ctx, "ws://"+addr+"/", nil)
		if err != nil {
			t.Fatalf("Dial: %v", err)
		}
		defer cc.Close(wsproto.CloseNormal, "")
		if _, _, err := cc.ReadMessage(ctx); err == nil {
			t.Fatal("ReadMessage returned a message of the flood")
		}
		select {
		case code := <-closed:
			if code != 1009 {
				t.Fatalf("client closed with %d, want 1009", code)
			}
		case <-ctx.Done():
			t.Fatal("the client sent no close frame")
		}
	})
}
