package lws_test

import (
	"bytes"
	"errors"
	"runtime"
	"testing"

	"github.com/lws-go/lws"
	"golang.org/x/sys/unix"
)

// idleHeapBound is the live heap an idle upgraded connection may hold on
// the server (issue 10, target 4: 512 bytes of RSS, which settles near 1.8
// times the live heap). An idle connection holds only its Conn (256 bytes,
// one allocation size class); the bound leaves room for two size classes.
const idleHeapBound = 320

// TestIdleConnectionHeap opens idle upgraded connections to an in-process
// service and measures the server's live heap per connection: the slope of
// runtime.MemStats.HeapAlloc between a warm-up set and 2,000 more. The
// clients are raw sockets driven by system calls, so they add nothing to
// the heap themselves.
func TestIdleConnectionHeap(t *testing.T) {
	const warm, n = 200, 2000
	svc := startService(t, lws.Config{MaxConns: 4 * (warm + n), Protocols: []*lws.Protocol{echoProtocol("echo")}})
	port := svc.Port()

	fds := make([]int, 0, warm+n)
	t.Cleanup(func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	})
	buf := make([]byte, 512)
	req := []byte("GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n")
	open := func(count int) {
		for i := 0; i < count; i++ {
			fd, err := rawUpgrade(port, req, buf)
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
	allocs, allocBytes := (ms.Mallocs-mallocsBefore)/n, (ms.TotalAlloc-allocBefore)/n

	perConn := (int64(after) - int64(before)) / n
	t.Logf("%d idle upgraded connections: server live heap %d B/conn (HeapAlloc %d -> %d); allocated while connecting: %d objects, %d B per connection",
		n, perConn, before, after, allocs, allocBytes)
	if perConn > idleHeapBound {
		t.Errorf("idle connection holds %d B of live heap, want <= %d", perConn, idleHeapBound)
	}
}

var errShortResponse = errors.New("no 101 response to the handshake")

// rawUpgrade opens a blocking loopback socket to port, sends req and reads
// the 101 response into buf, with a 10s receive timeout.
func rawUpgrade(port int, req, buf []byte) (int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	tv := unix.Timeval{Sec: 10}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		unix.Close(fd)
		return -1, err
	}
	sa := &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}
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
