package lws

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/lws-go/lws/tlsconn"
)

// heldConn passes writes through until hold, then keeps them until flush
// writes them at once: two TLS records reach the peer in one segment.
type heldConn struct {
	net.Conn
	mu   sync.Mutex
	held bool
	buf  []byte
}

func (h *heldConn) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.held {
		h.buf = append(h.buf, p...)
		return len(p), nil
	}
	return h.Conn.Write(p)
}

func (h *heldConn) hold() {
	h.mu.Lock()
	h.held = true
	h.mu.Unlock()
}

// flush writes what was held in one write and returns its size.
func (h *heldConn) flush() (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.held = false
	return h.Conn.Write(h.buf)
}

// On the portable backend, a readiness event for reading whose read path
// stops short of the socket leaves input in the netSocket that nothing
// else announces: here the TLS session holds a whole record already, the
// read hands out its plaintext and ends there as a short read, while the
// next record waits in the netSocket. A level-triggered poller reports
// such a socket again; so must the portable backend, or the connection
// stalls with its input unread.
func TestPortableReadableAgainAfterTLSPlaintext(t *testing.T) {
	cert, _, _, err := tlsconn.SelfSigned("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	established := make(chan *Conn, 1)
	received := make(chan string, 4)
	p := &Protocol{
		Name:       "p",
		Reassemble: true,
		OnEstablished: func(c *Conn) {
			c.PauseRx() // nothing is read until the test has set the stage
			established <- c
		},
		OnReceive: func(c *Conn, data []byte) { received <- string(data) },
	}
	svc := runServiceInternal(t, Config{TLS: tlsconn.ServerConfigFor(cert), Backend: BackendPortable, Protocols: []*Protocol{p}})

	tcp, err := net.Dial("tcp", svc.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	hc := &heldConn{Conn: tcp}
	tc := tls.Client(hc, &tls.Config{InsecureSkipVerify: true})
	tc.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(tc, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: p\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(tc), nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v, %v", resp, err)
	}
	var c *Conn
	select {
	case c = <-established:
	case <-time.After(10 * time.Second):
		t.Fatal("not established")
	}

	// Two messages, one TLS record each, arriving together.
	hc.hold()
	for _, m := range []string{"first", "second"} {
		frame := append([]byte{0x81, 0x80 | byte(len(m)), 0, 0, 0, 0}, m...) // masked with a zero key
		if _, err := tc.Write(frame); err != nil {
			t.Fatal(err)
		}
	}
	sent, err := hc.flush()
	if err != nil {
		t.Fatal(err)
	}
	// Wait until the netSocket has read both records.
	for deadline := time.Now().Add(10 * time.Second); ; {
		var have int
		onLoop(t, svc, func(*serviceLoop) {
			c.rare.ns.mu.Lock()
			have = len(c.rare.ns.rbuf)
			c.rare.ns.mu.Unlock()
		})
		if have == sent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the netSocket holds %d of the %d bytes sent", have, sent)
		}
		time.Sleep(time.Millisecond)
	}
	// The stage: the first record is in the session, as a read that took
	// a whole buffer of plaintext leaves it; the second in the netSocket;
	// reading resumes without a read posted (as when the pause and its
	// end both came after the read that would have followed).
	onLoop(t, svc, func(*serviceLoop) {
		ns := c.rare.ns
		ns.mu.Lock()
		first := 5 + int(binary.BigEndian.Uint16(ns.rbuf[3:5]))
		ns.mu.Unlock()
		rec := make([]byte, first)
		if n, err := ns.read(rec); n != first || err != nil {
			t.Errorf("reading the first record from the netSocket: %d, %v", n, err)
			return
		}
		if err := c.tls.s.Feed(rec); err != nil {
			t.Error(err)
			return
		}
		c.rxPaused = false
		c.updateEvents()
	})
	for _, want := range []string{"first", "second"} {
		select {
		case got := <-received:
			if got != want {
				t.Fatalf("received %q, want %q", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%q not received: the input left in the netSocket was not announced again", want)
		}
	}
}
