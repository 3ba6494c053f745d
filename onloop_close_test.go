package lws_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/wsproto"
)

// closeFromCallback runs a service with the given loops whose HTTP
// handler calls stop (Close or Shutdown) on the loop goroutine, sends one
// request and checks stop returned nil, failing when it does not return
// (the deadlock of a call waiting for its own loop). Then the client must
// see the end of its connection, Run must return, and nothing is left.
func closeFromCallback(t *testing.T, loops int, stop func(*lws.Service) error) {
	base := quietBaseline(t)
	returned := make(chan error, 1)
	svc, done := runService(t, lws.Config{Loops: loops, HTTP: func(r *lws.HTTPRequest) {
		returned <- stop(r.Conn().Service())
		r.Respond(200, "text/plain", []byte("stopping"))
	}})
	c, err := net.Dial("tcp", svc.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-returned:
		if err != nil {
			t.Errorf("called from the HTTP callback: %v, want nil", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("called from the HTTP callback, it did not return: it waits for its own loop")
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.Copy(io.Discard, c); err != nil && !strings.Contains(err.Error(), "reset") {
		t.Errorf("client after the close: %v, want the end of the connection", err)
	}
	c.Close() // like a browser, once the server ended the connection
	waitRun(t, done)
	if n := svc.Connections(); n != 0 {
		t.Errorf("%d connections after Run returned", n)
	}
	waitBaseline(t, base, "after the close from a callback")
}

// TestCloseFromCallback: Service.Close called on a loop goroutine (here
// from an HTTP callback, on loop 0 and on another loop) returns nil at
// once instead of waiting for the loop it runs on; the close completes
// after the callback and Run returns.
func TestCloseFromCallback(t *testing.T) {
	for _, loops := range []int{1, 2} {
		// With 2 loops the first connection goes to loop 1, whose
		// goroutine is not the one that called Run.
		t.Run(fmt.Sprintf("%d loops", loops), func(t *testing.T) {
			closeFromCallback(t, loops, (*lws.Service).Close)
		})
	}
}

// TestShutdownFromCallback: Service.Shutdown called from a callback
// starts the shutdown, returns nil at once and completes on its own.
func TestShutdownFromCallback(t *testing.T) {
	closeFromCallback(t, 1, func(s *lws.Service) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		_ = cancel // the shutdown outlives the callback; the timeout ends ctx
		return s.Shutdown(ctx)
	})
}

// TestCloseFromOnClosed: OnClosed callbacks run while Close closes the
// connections, on the loop goroutine after it stopped; a Close called
// there returns at once instead of waiting for the close it is part of,
// and a Close called later from another goroutine waits until Run has
// closed everything.
func TestCloseFromOnClosed(t *testing.T) {
	for _, loops := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d loops", loops), func(t *testing.T) {
			base := quietBaseline(t)
			inner := make(chan error, 4)
			p := &lws.Protocol{Name: "p", OnClosed: func(c *lws.Conn, code wsproto.CloseCode, reason string) {
				inner <- c.Service().Close()
			}}
			svc, done := runService(t, lws.Config{Loops: loops, Protocols: []*lws.Protocol{p}})
			var clients []*rawConn
			for range 2 {
				clients = append(clients, dialWS(t, svc, "p"))
			}
			waitCond(t, "both connections established", func() bool { return svc.Connections() == 2 })
			closed := make(chan error, 1)
			go func() { closed <- svc.Close() }()
			for range 2 {
				select {
				case err := <-inner:
					if err != nil {
						t.Errorf("Close from OnClosed: %v", err)
					}
				case <-time.After(20 * time.Second):
					t.Fatal("Close from OnClosed, during Close, did not return")
				}
			}
			select {
			case <-closed:
			case <-time.After(20 * time.Second):
				t.Fatal("Close did not return")
			}
			if err := svc.Close(); err != nil {
				t.Errorf("Close again: %v", err)
			}
			waitRun(t, done)
			for _, rc := range clients {
				rc.Close()
			}
			waitBaseline(t, base, "after Close")
		})
	}
}
