package lws_test

// Reading paused and resumed (by the user's PauseRx/ResumeRx, by the
// library's hold while output backs up, by a Dial reader that falls
// behind) must never lose or reorder a byte of input. Each test here is
// one of the ways a slow consumer meets that path through the public API;
// every message carries its sequence number and a pattern derived from it,
// so a reordered, lost or duplicated byte fails the check.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/wsproto"
)

// seqMessage is message i of size n: the sequence number, then a pattern
// that depends on it.
func seqMessage(i, n int) []byte {
	b := make([]byte, n)
	binary.BigEndian.PutUint32(b, uint32(i))
	for k := 4; k < n; k++ {
		b[k] = byte(i*7 + k)
	}
	return b
}

// checkSeqMessage reports how msg differs from seqMessage(i, n).
func checkSeqMessage(msg []byte, i, n int) error {
	if len(msg) != n {
		return fmt.Errorf("message %d: %d bytes, want %d", i, len(msg), n)
	}
	if got := int(binary.BigEndian.Uint32(msg)); got != i {
		return fmt.Errorf("message %d: carries sequence number %d", i, got)
	}
	for k := 4; k < n; k++ {
		if msg[k] != byte(i*7+k) {
			return fmt.Errorf("message %d: byte %d is %#x, want %#x", i, k, msg[k], byte(i*7+k))
		}
	}
	return nil
}

// slowRead reads count messages of size n in order, pausing every 50
// reads as a consumer that cannot keep up does.
func slowRead(ctx context.Context, cc *lws.ClientConn, count, n int) error {
	for i := 0; i < count; i++ {
		if i%50 == 49 {
			time.Sleep(20 * time.Millisecond) // a slow consumer, not a wait
		}
		op, msg, err := cc.ReadMessage(ctx)
		if err != nil {
			return fmt.Errorf("read %d: %w", i, err)
		}
		if op != lws.WriteBinary {
			return fmt.Errorf("message %d: opcode %v", i, op)
		}
		if err := checkSeqMessage(msg, i, n); err != nil {
			return err
		}
	}
	return nil
}

// A Dial client writes as fast as it can and reads the echoes slowly: the
// server's output backs up, the server holds its reading, the client's own
// backlog pauses its reading; every echo must come back whole and in
// order, and none may meet ErrWriteBufferFull (wholeEcho closes with 1011
// then).
func TestSlowEchoClientKeepsOrder(t *testing.T) {
	for _, size := range []int{1000, 16 << 10} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			svc := startService(t, lws.Config{Protocols: []*lws.Protocol{wholeEcho("echo")}})
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cc, err := lws.Dial(ctx, "ws://"+svc.Addr().String()+"/", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer cc.Close(wsproto.CloseNormal, "")
			const count = 2000
			werr := make(chan error, 1)
			go func() {
				for i := 0; i < count; i++ {
					if err := cc.WriteMessage(ctx, lws.WriteBinary, seqMessage(i, size)); err != nil {
						werr <- fmt.Errorf("write %d: %w", i, err)
						return
					}
				}
				werr <- nil
			}()
			if err := slowRead(ctx, cc, count, size); err != nil {
				t.Fatal(err)
			}
			if err := <-werr; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A server pushes messages from OnWriteable as fast as the socket takes
// them; the Dial client reads slowly, so its reading pauses and resumes
// many times (no PauseRx of the user's).
func TestServerPushToSlowDialReader(t *testing.T) {
	const count, size = 2000, 16 << 10
	push := &lws.Protocol{
		Name: "push",
		OnEstablished: func(c *lws.Conn) {
			c.SetUser(0)
			c.RequestWriteable()
		},
		OnWriteable: func(c *lws.Conn) {
			i := c.User().(int)
			for ; i < count && c.Buffered() == 0; i++ {
				if err := c.Write(seqMessage(i, size), lws.WriteBinary); err != nil {
					t.Errorf("server write %d: %v", i, err)
					return
				}
			}
			c.SetUser(i)
			if i < count {
				c.RequestWriteable()
			}
		},
	}
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{push}})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cc, err := lws.Dial(ctx, "ws://"+svc.Addr().String()+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close(wsproto.CloseNormal, "")
	if err := slowRead(ctx, cc, count, size); err != nil {
		t.Fatal(err)
	}
}

// The server's OnReceive pauses reading and resumes it a little later from
// another goroutine, for every message, while the client writes large
// messages as fast as it can; with and without Reassemble.
func TestPauseRxInReceiveKeepsOrder(t *testing.T) {
	for _, reassemble := range []bool{false, true} {
		t.Run(fmt.Sprintf("reassemble=%v", reassemble), func(t *testing.T) {
			const count, size = 200, 64 << 10
			type state struct {
				got    []byte
				next   int
				pieces int
			}
			failed := make(chan error, 1)
			fail := func(err error) {
				select {
				case failed <- err:
				default:
				}
			}
			var done atomic.Int32
			p := &lws.Protocol{
				Name:       "pausing",
				Reassemble: reassemble,
				OnEstablished: func(c *lws.Conn) {
					c.SetUser(&state{})
				},
				OnReceive: func(c *lws.Conn, data []byte) {
					st := c.User().(*state)
					st.got = append(st.got, data...)
					if c.IsFinalFragment() {
						if err := checkSeqMessage(st.got, st.next, size); err != nil {
							fail(err)
						}
						st.got = st.got[:0]
						st.next++
						if st.next == count {
							done.Store(1)
							c.Write([]byte("done"), lws.WriteText)
						}
					}
					// Pause at each message's end and once within it (with
					// default limits a 64 KiB message comes in 16 pieces).
					if st.pieces++; c.IsFinalFragment() || st.pieces%16 == 5 {
						c.PauseRx()
						time.AfterFunc(5*time.Millisecond, func() { c.Post(func() { c.ResumeRx() }) })
					}
				},
				OnClosed: func(c *lws.Conn, code wsproto.CloseCode, reason string) {
					if done.Load() == 0 {
						fail(fmt.Errorf("server side closed with %d %q after %d messages", code, reason, c.User().(*state).next))
					}
				},
			}
			svc := startService(t, lws.Config{Protocols: []*lws.Protocol{p}})
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cc, err := lws.Dial(ctx, "ws://"+svc.Addr().String()+"/", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer cc.Close(wsproto.CloseNormal, "")
			go func() {
				for i := 0; i < count; i++ {
					if err := cc.WriteMessage(ctx, lws.WriteBinary, seqMessage(i, size)); err != nil {
						fail(fmt.Errorf("write %d: %w", i, err))
						return
					}
				}
			}()
			read := make(chan error, 1)
			go func() {
				_, msg, err := cc.ReadMessage(ctx)
				if err == nil && string(msg) != "done" {
					err = fmt.Errorf("server answered %q", msg)
				}
				read <- err
			}()
			select {
			case err := <-failed:
				t.Fatal(err)
			case err := <-read:
				if err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// PauseRx in OnReceive takes effect at once, even within a frame or a
// compressed message: no further piece is delivered until ResumeRx, and
// what follows resumes where it stopped. Each piece pauses reading and
// resumes it from a posted function, which runs only after the loop has
// finished with the current input, so a piece delivered while paused is
// seen. Messages of 1,000 bytes at RxBufferSize 100, whole and
// fragmented, in one write; then the same compressed.
func TestPauseRxStopsWithinAFrame(t *testing.T) {
	t.Run("plain", func(t *testing.T) { testPauseRxStopsWithin(t, false) })
	t.Run("compressed", func(t *testing.T) { testPauseRxStopsWithin(t, true) })
}

func testPauseRxStopsWithin(t *testing.T, compressed bool) {
	const pieceSize = 100
	var (
		got      []byte
		pieces   int
		paused   bool
		problems = make(chan string, 1)
		done     = make(chan struct{})
	)
	msgs := [][]byte{seqMessage(0, 1000), seqMessage(1, 1000), seqMessage(2, 250)}
	var want []byte
	for _, m := range msgs {
		want = append(want, m...)
	}
	p := &lws.Protocol{
		Name:         "pausing",
		RxBufferSize: pieceSize,
		Compression:  compression(compressed),
		OnReceive: func(c *lws.Conn, data []byte) {
			if paused {
				select {
				case problems <- fmt.Sprintf("piece %d (%d bytes) delivered while reading was paused", pieces, len(data)):
				default:
				}
			}
			if len(data) > pieceSize {
				t.Errorf("piece of %d bytes, RxBufferSize %d", len(data), pieceSize)
			}
			if _, ok := c.Deflate(); ok != compressed {
				t.Errorf("permessage-deflate negotiated: %v", ok)
			}
			pieces++
			got = append(got, data...)
			if len(got) == len(want) {
				close(done)
				return
			}
			paused = true
			c.PauseRx()
			c.Post(func() {
				paused = false
				c.ResumeRx()
			})
		},
	}
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{p}})
	if compressed {
		cc, err := lws.Dial(context.Background(), "ws://"+svc.Addr().String()+"/", &lws.DialOptions{
			Protocols: []string{"pausing"}, Compression: &lws.Compression{Threshold: 1}})
		if err != nil {
			t.Fatal(err)
		}
		defer cc.Close(lws.CloseNormal, "")
		for _, m := range msgs {
			if err := cc.WriteMessage(context.Background(), lws.WriteBinary, m); err != nil {
				t.Fatal(err)
			}
		}
	} else {
		rc := dialWS(t, svc, "pausing")
		var wire []byte
		wire = append(wire, frame(0x82, key1, msgs[0])...)
		// The second message in three frames: 300 + 0 + 700 bytes.
		wire = append(wire, frame(0x02, key1, msgs[1][:300])...)
		wire = append(wire, frame(0x00, key1, nil)...)
		wire = append(wire, frame(0x80, key1, msgs[1][300:])...)
		wire = append(wire, frame(0x82, key1, msgs[2])...)
		if _, err := rc.Write(wire); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-done:
	case msg := <-problems:
		t.Fatal(msg)
	case <-time.After(30 * time.Second):
		t.Fatalf("%d of %d bytes delivered", len(got), len(want))
	}
	select {
	case msg := <-problems:
		t.Fatal(msg)
	default:
	}
	for i, m := range msgs {
		off := 0
		for _, prev := range msgs[:i] {
			off += len(prev)
		}
		if err := checkSeqMessage(got[off:off+len(m)], i, len(m)); err != nil {
			t.Fatal(err)
		}
	}
	if pieces < 23 {
		t.Fatalf("%d pieces for 2,250 bytes at %d per piece", pieces, pieceSize)
	}
}

// Two lws peers that each echo what they read, with reading held while
// output backs up on both, wait on each other once a burst fills every
// buffer between them. Nothing hangs: the write-stall watch ends both
// connections with 1008, as the documentation of the hold says.
func TestTwoHoldingEchoesEndWithWriteStall(t *testing.T) {
	const burst, size = 256, 64 << 10
	closed := make(chan string, 2)
	echo := func(name string) *lws.Protocol {
		p := echoProtocol("mutual")
		p.Reassemble = true
		p.OnReceive = func(c *lws.Conn, data []byte) {
			mode := lws.WriteText
			if c.IsBinary() {
				mode = lws.WriteBinary
			}
			// ErrClosed: the write found the other end gone (it was
			// dropped first); OnClosed says how this one ended.
			if err := c.Write(data, mode); err != nil && !errors.Is(err, lws.ErrClosed) {
				closed <- fmt.Sprintf("%s: echo refused: %v", name, err)
			}
		}
		p.OnClosed = func(c *lws.Conn, code wsproto.CloseCode, reason string) {
			closed <- fmt.Sprintf("%s %d %s", name, code, reason)
		}
		return p
	}
	limits := lws.Limits{WriteBufferSize: 256 << 10, WriteStallTimeout: 300 * time.Millisecond, PingInterval: -1}
	server := echo("server")
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{server}, Limits: limits})
	client := echo("client")
	sent := 0
	client.OnEstablished = func(c *lws.Conn) { c.RequestWriteable() }
	client.OnWriteable = func(c *lws.Conn) {
		// The burst, as fast as the output takes it, leaving room for
		// the echoes (which the hold keeps within half the limit).
		for sent < burst && c.Buffered() < limits.WriteBufferSize/4 {
			if err := c.Write(seqMessage(sent, size), lws.WriteBinary); err != nil {
				if !errors.Is(err, lws.ErrClosed) {
					closed <- fmt.Sprintf("client: burst refused: %v", err)
				}
				return
			}
			sent++
		}
		if sent < burst {
			c.RequestWriteable()
		}
	}
	csvc := startService(t, lws.Config{Protocols: []*lws.Protocol{client}, Limits: limits})
	if _, err := csvc.Connect(lws.ClientInfo{URL: "ws://" + svc.Addr().String() + "/", Protocols: []string{"mutual"}}); err != nil {
		t.Fatal(err)
	}
	stalled := 0
	for range 2 {
		select {
		case got := <-closed:
			switch {
			case strings.HasSuffix(got, " 1008 write stalled"):
				stalled++
			case strings.HasSuffix(got, " 1006 "): // the other end dropped it first
			default:
				t.Fatalf("%s; want 1008 \"write stalled\", or 1006 after the other end's", got)
			}
		case <-time.After(time.Minute):
			t.Fatal("the two echoes still wait on each other after a minute")
		}
	}
	if stalled == 0 {
		t.Fatal("neither end was ended by its write-stall watch")
	}
}

// compression is permessage-deflate with every message compressed, or nil.
func compression(on bool) *lws.Compression {
	if !on {
		return nil
	}
	return &lws.Compression{Threshold: 1}
}
