package lws_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/wsproto"
)

// TestDialPing: against our server, Ping returns once the PONG came, from
// many goroutines at once and between messages; after Close it returns
// ErrClosed.
func TestDialPing(t *testing.T) {
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{wholeEcho("echo")}})
	ctx := testCtx(t)
	cc := mustDial(t, wsURL(svc, "/"), &lws.DialOptions{Protocols: []string{"echo"}})
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() { errs <- cc.Ping(ctx) })
	}
	if err := cc.WriteMessage(ctx, lws.WriteText, []byte("between")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := cc.ReadMessage(ctx); err != nil || string(msg) != "between" {
		t.Fatalf("echo between pings: %q, %v", msg, err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Ping: %v", err)
		}
	}
	if err := cc.Close(lws.CloseNormal, ""); err != nil {
		t.Fatal(err)
	}
	if err := cc.Ping(ctx); !errors.Is(err, lws.ErrClosed) {
		t.Errorf("Ping after Close: %v, want ErrClosed", err)
	}
}

// TestDialPingWaitsForItsPong: a raw server answers a first PING with an
// unrelated PONG (as a keepalive answer would be): Ping keeps waiting and
// returns ctx's error when ctx ends, and the connection stays usable. A
// second and third PING, both on the wire, are answered by one PONG to
// the third (RFC 6455 section 5.5.3): both Pings return nil.
func TestDialPingWaitsForItsPong(t *testing.T) {
	read := make(chan []byte) // the server's PING payloads
	answer := make(chan []byte)
	addr := rawServer(t, func(c net.Conn, r *bufio.Reader, req *http.Request) {
		c.Write([]byte(head101 + "Sec-WebSocket-Accept: " + accept(req) + "\r\n\r\n"))
		for {
			b0, p, err := readFrameExact(r, true)
			if err != nil || b0 != 0x89 {
				return // the client's close frame ends the script
			}
			read <- p
			c.Write(wsproto.AppendFrame(nil, wsproto.Header{Fin: true, Opcode: wsproto.OpPong}, <-answer))
		}
	})
	cc := mustDial(t, "ws://"+addr+"/", nil)
	ctx := testCtx(t)

	short, cancel := context.WithCancel(ctx)
	first := make(chan error, 1)
	go func() { first <- cc.Ping(short) }()
	<-read
	answer <- []byte("8 bytes!") // not this PING's answer (its length is a PING id's)
	select {
	case err := <-first:
		t.Fatalf("Ping returned %v on an unrelated PONG", err)
	case <-time.After(50 * time.Millisecond): // it is still waiting (no sleep decides the result)
	}
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("Ping with ctx cancelled: %v, want context.Canceled", err)
	}

	second := make(chan error, 1)
	go func() { second <- cc.Ping(ctx) }()
	<-read
	third := make(chan error, 1)
	go func() { third <- cc.Ping(ctx) }()
	answer <- []byte("8 bytes?")
	p3 := <-read
	answer <- p3 // the answer to the third PING only
	for name, ch := range map[string]chan error{"second": second, "third": third} {
		if err := <-ch; err != nil {
			t.Errorf("%s Ping: %v", name, err)
		}
	}
}
