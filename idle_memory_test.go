//go:build unix

package lws_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"testing"

	"github.com/lws-go/lws"
	"golang.org/x/sys/unix"
)

// idleHeapBound is the live heap an idle upgraded connection may hold on
// the server (the idle-memory target: 512 bytes of RSS). An idle connection
// holds only its Conn (256 bytes, one allocation size class); the bound
// leaves room for two size classes.
const idleHeapBound = 320

// A handshake's garbage, collected only when the heap has grown to twice
// the live heap (GOGC=100), is what makes the RSS of many idle connections
// exceed their live heap. These bound what the server allocates per
// handshake: objects in all, and bytes beyond the live heap the connection
// keeps. A handshake allocates only its Conn (it borrows the pooled head
// buffer for the request and needs no timer); the bounds leave room for
// what the loop's own amortized growth adds, not for one object per
// connection. Before they held, the handshake below allocated 10 objects,
// 680 bytes of them garbage (the request head copied into a string, a
// timer and its closure, the HTTPRequest for the Origin check, the Origin
// parsed into a url.URL, the subprotocol list split); with two loops, a
// closure per socket handed to the second loop left 32 bytes per
// connection on average.
const (
	handshakeAllocsBound  = 2
	handshakeGarbageBound = 16
)

// TestIdleConnectionHeap opens idle upgraded connections to an in-process
// service and measures the server's live heap per connection: the slope of
// runtime.MemStats.HeapAlloc between a warm-up set and 2,000 more; and what
// the handshakes of those 2,000 allocated. The clients are raw sockets
// driven by system calls on buffers and an address made once, so they
// allocate nothing themselves: what is allocated is the server's. With two
// loops, half the sockets are handed from the listener's loop to the other
// (handoff.go), which must not allocate per connection either.
//
// With "request in OnEstablished", OnEstablished reads the handshake
// request's header fields (Conn.Request): the request built for it is
// garbage once OnEstablished returns, so the live heap per idle connection
// keeps its bound (the handshake's allocation bounds do not apply).
func TestIdleConnectionHeap(t *testing.T) {
	fdBackendOnly(t, "a few hundred bytes per idle connection")
	for _, loops := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d loops", loops), func(t *testing.T) { testIdleConnectionHeap(t, loops, echoProtocol("echo"), true) })
	}
	readsRequest := echoProtocol("echo")
	readsRequest.OnEstablished = func(c *lws.Conn) {
		if r := c.Request(); r.Header.Get("User-Agent") == "" || r.Header.Get("Origin") == "" {
			c.Close(1008, "who are you?")
		}
	}
	t.Run("request in OnEstablished", func(t *testing.T) { testIdleConnectionHeap(t, 1, readsRequest, false) })
}

func testIdleConnectionHeap(t *testing.T, loops int, p *lws.Protocol, boundAllocs bool) {
	const warm, n = 200, 2000
	svc := startService(t, lws.Config{Loops: loops, MaxConns: 4 * (warm + n), Protocols: []*lws.Protocol{p}})
	sa := &unix.SockaddrInet4{Port: svc.Port(), Addr: [4]byte{127, 0, 0, 1}}

	fds := make([]int, 0, warm+n)
	t.Cleanup(func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	})
	buf := make([]byte, 512)
	// A handshake as a browser page of this server sends it: the Origin
	// check, the subprotocol choice and the declined compression offer
	// are on the path.
	req := []byte("GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n" +
		"Origin: http://localhost\r\nSec-WebSocket-Protocol: chat, echo\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0\r\n\r\n")
	open := func(count int) {
		for i := 0; i < count; i++ {
			fd, err := rawUpgrade(sa, req, buf)
			if err != nil {
				t.Fatalf("connection %d: %v", len(fds), err)
			}
			fds = append(fds, fd)
		}
	}
	var ms runtime.MemStats
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}

	open(warm)
	waitCond(t, "warm-up connections established", func() bool { return svc.Connections() == warm })
	before := heap()
	allocBefore, mallocsBefore := ms.TotalAlloc, ms.Mallocs
	open(n)
	waitCond(t, "connections established", func() bool { return svc.Connections() == warm+n })
	after := heap()
	allocs, allocBytes := int64(ms.Mallocs-mallocsBefore)/n, int64(ms.TotalAlloc-allocBefore)/n

	perConn := (int64(after) - int64(before)) / n
	garbage := allocBytes - perConn
	t.Logf("%d idle upgraded connections: server live heap %d B/conn (HeapAlloc %d -> %d); "+
		"allocated per handshake: %d objects, %d B, of which %d B garbage",
		n, perConn, before, after, allocs, allocBytes, garbage)
	if perConn > idleHeapBound {
		t.Errorf("idle connection holds %d B of live heap, want <= %d", perConn, idleHeapBound)
	}
	if !boundAllocs {
		return
	}
	if allocs > handshakeAllocsBound {
		t.Errorf("a handshake allocates %d objects, want <= %d", allocs, handshakeAllocsBound)
	}
	// poll(2)'s descriptor array grows by doubling as connections come,
	// and the arrays it outgrew are garbage: about 50 B per connection
	// while they pile up, none once their number settles.
	if garbage > handshakeGarbageBound && os.Getenv("LWS_TEST_BACKEND") != "poll" {
		t.Errorf("a handshake leaves %d B of garbage, want <= %d", garbage, handshakeGarbageBound)
	}
}

var errShortResponse = errors.New("no 101 response to the handshake")

// rawUpgrade opens a blocking socket to sa, sends req and reads the 101
// response into buf, with a 10s receive timeout. It allocates nothing.
func rawUpgrade(sa *unix.SockaddrInet4, req, buf []byte) (int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		return -1, err
	}
	unix.CloseOnExec(fd)
	tv := unix.Timeval{Sec: 10}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		unix.Close(fd)
		return -1, err
	}
	err = unix.Connect(fd, sa)
	for err == unix.EINTR || err == unix.EALREADY { // interrupted by the runtime's signals: the connect goes on
		err = unix.Connect(fd, sa)
		if err == unix.EISCONN {
			err = nil
		}
	}
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	_, err = unix.Write(fd, req) // a few bytes into an empty socket buffer: all or nothing
	for err == unix.EINTR {
		_, err = unix.Write(fd, req)
	}
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	got := 0
	for !bytes.Contains(buf[:got], []byte("\r\n\r\n")) {
		if got == len(buf) {
			unix.Close(fd)
			return -1, errShortResponse
		}
		k, err := unix.Read(fd, buf[got:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || k == 0 {
			unix.Close(fd)
			if err == nil {
				err = errShortResponse
			}
			return -1, err
		}
		got += k
	}
	if !bytes.HasPrefix(buf[:got], []byte("HTTP/1.1 101 ")) {
		unix.Close(fd)
		return -1, errShortResponse
	}
	return fd, nil
}
