package lws_test

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/lws-go/lws"
)

// TestMaxConnsRefusesAndRecovers caps a service at 3 connections: a fourth
// is accepted and closed at once without an answer, the three go on
// echoing, and when one leaves a new one gets in.
func TestMaxConnsRefusesAndRecovers(t *testing.T) {
	svc := startService(t, lws.Config{MaxConns: 3, Protocols: []*lws.Protocol{echoProtocol("echo")}})
	if svc.MaxConns() != 3 {
		t.Fatalf("MaxConns() = %d, want 3", svc.MaxConns())
	}
	conns := []*rawConn{dialWS(t, svc, "echo"), dialWS(t, svc, "echo"), dialWS(t, svc, "echo")}

	for i := range 5 {
		c, err := net.DialTimeout("tcp", svc.Addr().String(), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "+testKey+"\r\nSec-WebSocket-Version: 13\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := c.Read(make([]byte, 1))
		c.Close()
		if n != 0 || err == nil || isTimeout(err) {
			t.Fatalf("connection %d over the limit: read %d bytes, %v; want it closed without an answer", i+4, n, err)
		}
	}

	for i, c := range conns {
		c.Write(frame(0x81, key1, []byte("still here")))
		if f, err := c.readFrame(t); err != nil || string(f.payload) != "still here" {
			t.Fatalf("connection %d after the refusals: %v %v", i, f, err)
		}
	}

	conns[0].Close()
	deadline := time.Now().Add(10 * time.Second)
	for svc.Connections() > 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the server still counts %d connections", svc.Connections())
		}
		time.Sleep(10 * time.Millisecond)
	}
	c := dialWS(t, svc, "echo")
	c.Write(frame(0x82, key1, []byte{1, 2, 3}))
	if f, err := c.readFrame(t); err != nil || f.op != 2 || len(f.payload) != 3 {
		t.Fatalf("new connection after one left: %v %v", f, err)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
