//go:build linux

package lws_test

// Regression tests for bugs the stress test and the review of its
// coverage found, each narrowed down to the one sequence of events that
// shows it.

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/tlsconn"
	"github.com/lws-go/lws/wsproto"
	"golang.org/x/sys/unix"
)

// The library holds a connection's reading while its output backs up,
// and resumes it once the output has drained. The output may drain in a
// flush that no writability event started (a Write from a posted
// function, the send queue's pump): reading must resume then too, or the
// connection waits for an event that never comes, neither readable (held)
// nor writable (nothing queued), until keepalive drops it.
func TestHoldEndsWhenOutputDrainsOutsideWritable(t *testing.T) {
	fdBackendOnly(t, "a small SO_SNDBUF set on Conn.FD")
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

// captureConn holds what is written to it while capturing, so a test can
// send TLS records together with bytes of its own in one write.
type captureConn struct {
	net.Conn
	capturing bool
	held      []byte
}

func (c *captureConn) Write(p []byte) (int, error) {
	if c.capturing {
		c.held = append(c.held, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// A TLS record that fails to decrypt ends the connection (1006, with a
// log line), and so does the peer's close_notify, but only after the data
// decrypted before them has been delivered, whether they arrive in the
// same read as the data or after it; the peer keeps its TCP connection
// open, so nothing but the TLS session tells the end. After a
// close_notify the peer may still read: the reply to its last message
// goes out before the connection closes, as it does after a TCP FIN.
func TestTLSEndAfterData(t *testing.T) {
	for _, tc := range []struct {
		name       string
		together   bool
		end        func(c *tls.Conn, tcp net.Conn, cc *captureConn)
		readsReply bool
	}{
		{"bad record in the same read", true, writeBadRecord, false},
		{"bad record alone", false, writeBadRecord, false},
		{"close_notify in the same read", true, writeCloseNotify, true},
		{"close_notify alone", false, writeCloseNotify, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			together := tc.together
			got := make(chan string, 4)
			closed := make(chan wsproto.CloseCode, 1)
			p := &lws.Protocol{
				Name:       "p",
				Reassemble: true,
				OnReceive: func(c *lws.Conn, data []byte) {
					got <- string(data)
					c.Write(data, lws.WriteText)
				},
				OnClosed: func(c *lws.Conn, code wsproto.CloseCode, reason string) { closed <- code },
			}
			cert, roots := testCert()
			svc := startService(t, lws.Config{Protocols: []*lws.Protocol{p}, TLS: tlsconn.ServerConfigFor(cert)})
			tcp, err := net.Dial("tcp", svc.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer tcp.Close()
			cc := &captureConn{Conn: tcp}
			c := tls.Client(cc, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
			c.SetDeadline(time.Now().Add(20 * time.Second))
			req := "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
			if _, err := c.Write([]byte(req)); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 101 {
				t.Fatalf("handshake: %v, %v", resp, err)
			}
			cc.capturing = together
			c.Write(frame(0x81, key1, []byte("before the end")))
			if together {
				tc.end(c, tcp, cc)
			}
			select {
			case msg := <-got:
				if msg != "before the end" {
					t.Fatalf("received %q", msg)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("the message before the end was not delivered")
			}
			if !together {
				tc.end(c, tcp, cc)
			}
			select {
			case code := <-closed:
				if code != wsproto.CloseAbnormal {
					t.Fatalf("closed with %d, want 1006", code)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("the connection was not closed after the TLS session ended")
			}
			if tc.readsReply {
				_, _, _, _, reply, err := readRawFrame(br)
				if err != nil || string(reply) != "before the end" {
					t.Fatalf("reply %q, %v; want the message back before the close", reply, err)
				}
			}
		})
	}
}

// writeBadRecord sends what was held and an application data record whose
// MAC cannot match.
func writeBadRecord(c *tls.Conn, tcp net.Conn, cc *captureConn) {
	cc.capturing = false
	tcp.Write(append(cc.held, append([]byte{0x17, 0x03, 0x03, 0x00, 0x20}, make([]byte, 0x20)...)...))
}

// writeCloseNotify sends what was held and a close_notify alert, and
// leaves the TCP connection open.
func writeCloseNotify(c *tls.Conn, tcp net.Conn, cc *captureConn) {
	c.CloseWrite()
	cc.capturing = false
	tcp.SetWriteDeadline(time.Time{}) // CloseWrite leaves it passed
	tcp.Write(cc.held)
}
