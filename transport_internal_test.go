//go:build unix

package lws

import (
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/lws-go/lws/evloop"
	"github.com/lws-go/lws/internal/sockio"
	"golang.org/x/sys/unix"
)

// seamPair is a connection whose socket is one end of a socket pair, on a
// loop that is not run, and the other end.
func seamPair(t *testing.T) (*Conn, int) {
	t.Helper()
	fds, err := sockio.Socketpair()
	if err != nil {
		t.Fatal(err)
	}
	ev, err := evloop.New(evloop.Config{Table: evloop.NewTable(max(fds[0], fds[1]) + 64)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ev.Close(); sockio.Close(fds[1]) })
	c := &Conn{loop: &serviceLoop{ev: ev}, transport: transport{fd: -1}}
	if err := c.sockAttach(socket{fd: fds[0]}, evloop.Readable); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.sockClose)
	return c, fds[1]
}

// TestSocketSeamContract checks the results the transport's socket methods
// promise the layers above (and that another kind of socket must give).
func TestSocketSeamContract(t *testing.T) {
	c, peer := seamPair(t)
	buf := make([]byte, 64)
	if n, err := c.sockRead(buf); n != 0 || err != sockio.ErrAgain {
		t.Fatalf("read with nothing there: %d, %v, want 0, ErrAgain", n, err)
	}
	sockio.Write(peer, []byte("abc"))
	if n, err := c.sockRead(buf); n != 3 || err != nil || string(buf[:n]) != "abc" {
		t.Fatalf("read: %d, %v, %q", n, err, buf[:n])
	}
	if n, err := c.sockWritev([]byte("x"), nil, []byte("yz")); n != 3 || err != nil {
		t.Fatalf("writev: %d, %v", n, err)
	}
	if n, err := c.sockWrite([]byte("!")); n != 1 || err != nil {
		t.Fatalf("write: %d, %v", n, err)
	}
	if n, _ := sockio.Read(peer, buf); string(buf[:n]) != "xyz!" {
		t.Fatalf("peer read %q", buf[:n])
	}

	// A full socket takes nothing: ErrAgain, nothing counted.
	big := make([]byte, 1<<20)
	sent := 0
	for {
		n, err := c.sockWrite(big)
		if err != nil {
			if n != 0 || err != sockio.ErrAgain {
				t.Fatalf("write to a full socket: %d, %v, want 0, ErrAgain", n, err)
			}
			break
		}
		sent += n
	}
	if n, err := c.sockWritev(nil, []byte("h"), big); n != 0 || err != sockio.ErrAgain {
		t.Fatalf("writev to a full socket: %d, %v, want 0, ErrAgain", n, err)
	}

	// Shut our side: the peer reads what was sent, then the end.
	if err := c.sockShutdownWrite(); err != nil {
		t.Fatal(err)
	}
	got := 0
	for {
		n, err := sockio.Read(peer, big)
		if n > 0 {
			got += n
			continue
		}
		if err != nil {
			t.Fatalf("peer read after %d of %d bytes: %v", got, sent, err)
		}
		break // the end of the stream
	}
	if got != sent {
		t.Fatalf("peer read %d bytes, %d sent", got, sent)
	}

	// The peer's orderly end is io.EOF, not (0, nil).
	if err := sockio.ShutdownWrite(peer); err != nil {
		t.Fatal(err)
	}
	if n, err := c.sockRead(buf); n != 0 || err != io.EOF {
		t.Fatalf("read at the end of the stream: %d, %v, want 0, io.EOF", n, err)
	}
}

// TestSocketSeamPoller: the poller's interest follows sockAttach, sockWatch
// and sockClose, which also closes the socket.
func TestSocketSeamPoller(t *testing.T) {
	c, peer := seamPair(t)
	ev := c.loop.ev
	fd := c.fd
	if got := ev.Events(fd); got != evloop.Readable || c.events != evloop.Readable {
		t.Fatalf("attached: poller watches %v, conn says %v, want readable", got, c.events)
	}
	c.sockWatch(evloop.Readable | evloop.Writable)
	if got := ev.Events(fd); got != evloop.Readable|evloop.Writable || c.events != got {
		t.Fatalf("after sockWatch: poller watches %v, conn says %v", got, c.events)
	}
	c.sockDiscard()
	if got := ev.Events(fd); got != 0 || c.fd != -1 || c.events != 0 {
		t.Fatalf("discarded: poller watches %v, fd %d, events %v", got, c.fd, c.events)
	}
	if n, err := sockio.Read(peer, make([]byte, 8)); n != 0 || err != nil {
		t.Fatalf("peer read after the close: %d, %v, want the end of the stream", n, err)
	}

	// A socket the loop cannot watch is closed, and the connection has none.
	fds, err := sockio.Socketpair()
	if err != nil {
		t.Fatal(err)
	}
	defer sockio.Close(fds[1])
	beyond, err := unix.FcntlInt(uintptr(fds[0]), unix.F_DUPFD_CLOEXEC, ev.Table().Size())
	if err != nil {
		t.Fatal(err)
	}
	sockio.Close(fds[0])
	refused := &Conn{loop: &serviceLoop{ev: ev}, transport: transport{fd: -1}}
	if err := refused.sockAttach(socket{fd: beyond}, evloop.Readable); !errors.Is(err, evloop.ErrTableFull) || refused.fd != -1 {
		t.Fatalf("fd beyond the table: %v, fd %d", err, refused.fd)
	}
	if _, err := unix.FcntlInt(uintptr(beyond), unix.F_GETFD, 0); err != unix.EBADF {
		t.Fatalf("the refused socket is open: %v", err)
	}
}

// TestConnHasNoOnEvents: the loop's handler is an adapter, not an
// exported method of Conn.
func TestConnHasNoOnEvents(t *testing.T) {
	if _, ok := reflect.TypeOf((*Conn)(nil)).MethodByName("OnEvents"); ok {
		t.Fatal("Conn exports OnEvents")
	}
	var h evloop.Handler = (*connHandler)(new(Conn))
	_ = h
}

func TestFreeList(t *testing.T) {
	var f freeList[*int]
	if _, ok := f.get(); ok {
		t.Fatal("got a value from an empty list")
	}
	a, b, c := new(int), new(int), new(int)
	for _, x := range []*int{a, b, c} {
		if !f.put(x, 3) {
			t.Fatal("refused below its limit")
		}
	}
	if f.put(new(int), 3) {
		t.Fatal("kept a value over its limit")
	}
	if x := f.take(0); x != a || len(f.items) != 2 || f.items[0] != c || f.items[:3][2] != nil {
		t.Fatalf("take(0): %p, items %v: want a, the last in its place and the vacated slot cleared", x, f.items[:3])
	}
	if x, ok := f.get(); !ok || x != b || f.items[:2][1] != nil {
		t.Fatalf("get: %p, %v, want the last put, its slot cleared", x, ok)
	}
	if x, _ := f.get(); x != c || len(f.items) != 0 {
		t.Fatalf("get: %p", x)
	}
}

// The buffer pool hands out the last pooled buffer big enough, and keeps
// no more than its byte budget.
func TestBufferPool(t *testing.T) {
	l := &serviceLoop{}
	small, large := l.getBuf(10), l.getBuf(64<<10)
	if cap(small) != minWriteBufferCap || cap(large) != 64<<10 {
		t.Fatalf("new buffers of %d and %d bytes", cap(small), cap(large))
	}
	l.putBuf(append(large, 1))
	l.putBuf(small)
	if b := l.getBuf(8 << 10); cap(b) != 64<<10 || len(b) != 0 || l.bufBytes != minWriteBufferCap {
		t.Fatalf("got %d bytes (len %d), pool holds %d", cap(b), len(b), l.bufBytes)
	}
	if b := l.getBuf(1); cap(b) != minWriteBufferCap || l.bufBytes != 0 {
		t.Fatalf("got %d bytes, pool holds %d", cap(b), l.bufBytes)
	}
	for range maxPoolBytes/maxPooledBuffer + 1 {
		l.putBuf(make([]byte, maxPooledBuffer))
	}
	if l.bufBytes > maxPoolBytes {
		t.Fatalf("pool holds %d bytes, budget %d", l.bufBytes, maxPoolBytes)
	}
	l, held := &serviceLoop{}, 0
	l.putBuf(make([]byte, maxPooledBuffer+1))
	if l.bufBytes != held || len(l.bufs.items) != 0 {
		t.Fatalf("kept a buffer over %d bytes", maxPooledBuffer)
	}
}
