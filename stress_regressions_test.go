package lws_test

// Regression tests for bugs the stress test found, each narrowed down to
// the one sequence of events that shows it.

import (
	"bytes"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"golang.org/x/sys/unix"
)

// The library holds a connection's reading while its output backs up,
// and resumes it once the output has drained. The output may drain in a
// flush that no writability event started (a Write from a posted
// function, the send queue's pump): reading must resume then too, or the
// connection waits for an event that never comes, neither readable (held)
// nor writable (nothing queued), until keepalive drops it.
func TestHoldEndsWhenOutputDrainsOutsideWritable(t *testing.T) {
	const limit, big = 256 << 10, 200 << 10
	var conn atomic.Pointer[lws.Conn]
	filled := make(chan struct{})
	p := &lws.Protocol{
		Name: "hold",
		OnEstablished: func(c *lws.Conn) {
			// A small socket buffer, so most of the big reply waits in the
			// output queue.
			unix.SetsockoptInt(c.FD(), unix.SOL_SOCKET, unix.SO_SNDBUF, 4096)
			conn.Store(c)
		},
		OnReceive: func(c *lws.Conn, data []byte) {
			switch string(data) {
			case "fill": // more than half the limit waits: reading holds
				c.Write(make([]byte, big), lws.WriteBinary)
				close(filled)
			case "hello":
				c.Write([]byte("reply"), lws.WriteText)
			}
		},
	}
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{p}, Limits: lws.Limits{WriteBufferSize: limit}})
	rc, err := dialPath(svc, "hold", "/", 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	rc.Write(frame(0x81, key1, []byte("fill")))
	select {
	case <-filled:
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not read the first message")
	}

	// Drain the output from one posted function, so the loop handles no
	// writability event meanwhile: it asks this goroutine to read what
	// the socket holds, then writes an empty PING, whose flush sends
	// what the socket takes now, until nothing waits.
	drain, drained, done := make(chan struct{}), make(chan struct{}), make(chan int)
	c := conn.Load()
	c.Post(func() {
		rounds := 0
		for c.Buffered() > 0 && rounds < 10000 {
			drain <- struct{}{}
			<-drained
			c.Write(nil, lws.WritePing)
			rounds++
		}
		done <- c.Buffered()
	})
	var stream []byte
	readAvailable := func() {
		buf := make([]byte, 64<<10)
		for {
			rc.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			n, err := rc.r.Read(buf)
			stream = append(stream, buf[:n]...)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return
			}
			if err != nil {
				t.Fatalf("reading the big reply: %v", err)
			}
		}
	}
	for left := -1; left < 0; {
		select {
		case <-drain:
			readAvailable() // the socket's content, while the loop waits
			drained <- struct{}{}
		case left = <-done:
			if left != 0 {
				t.Fatalf("%d bytes still queued after the drain", left)
			}
		}
	}

	rc.Write(frame(0x81, key1, []byte("hello")))
	want := []byte("\x81\x05reply")
	deadline := time.Now().Add(10 * time.Second)
	for !bytes.Contains(stream, want) {
		if time.Now().After(deadline) {
			t.Fatalf("no reply 10s after the output drained (%d bytes of %d read): reading did not resume", len(stream), big)
		}
		readAvailable()
	}
}
