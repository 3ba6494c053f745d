//go:build unix

package sockio

import (
	"bytes"
	"errors"
	"net"
	"testing"

	"golang.org/x/sys/unix"
)

func socketPair(t testing.TB) (a, b int) {
	t.Helper()
	fds, err := Socketpair()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	return fds[0], fds[1]
}

// tcpPair is a connected pair of TCP conns on loopback.
func tcpPair(t *testing.T) (a, b net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	a, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b = <-accepted
	if b == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestReadWrite(t *testing.T) {
	a, b := socketPair(t)
	buf := make([]byte, 64)
	if _, err := Read(b, buf); !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("read of an empty socket: %v, want EAGAIN", err)
	}
	if n, err := Write(a, []byte("hello")); n != 5 || err != nil {
		t.Fatalf("write: %d, %v", n, err)
	}
	if n, err := Read(b, buf); n != 5 || err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read: %d, %v, %q", n, err, buf[:n])
	}
	unix.Shutdown(a, unix.SHUT_WR)
	if n, err := Read(b, buf); n != 0 || err != nil {
		t.Fatalf("read at end of stream: %d, %v, want 0, nil", n, err)
	}
	if _, err := Write(-1, buf); !errors.Is(err, unix.EBADF) {
		t.Fatalf("write to fd -1: %v, want EBADF", err)
	}
}

func TestLargeBuffersTakeTheOrdinaryPath(t *testing.T) {
	a, b := socketPair(t)
	big := bytes.Repeat([]byte{7}, 2*RawLimit)
	n, err := Write(a, big) // the socket takes what fits in its buffer
	if n <= 0 || err != nil {
		t.Fatalf("write: %d, %v", n, err)
	}
	got := make([]byte, 2*RawLimit)
	total := 0
	for total < n {
		k, err := Read(b, got[total:])
		if err != nil {
			t.Fatalf("read after %d of %d: %v", total, n, err)
		}
		total += k
	}
	if !bytes.Equal(got[:n], big[:n]) {
		t.Fatal("bytes differ")
	}
}

func TestWritev3(t *testing.T) {
	a, b := socketPair(t)
	if n, err := Writev3(a, nil, nil, nil); n != 0 || err != nil {
		t.Fatalf("empty writev: %d, %v", n, err)
	}
	n, err := Writev3(a, []byte("queued "), nil, []byte("payload"))
	if n != 14 || err != nil {
		t.Fatalf("writev: %d, %v", n, err)
	}
	buf := make([]byte, 64)
	k, _ := Read(b, buf)
	if string(buf[:k]) != "queued payload" {
		t.Fatalf("read %q", buf[:k])
	}
	big := bytes.Repeat([]byte{1}, RawLimit)
	if n, err := Writev3(a, []byte{0}, big, []byte{2}); n <= 0 || err != nil {
		t.Fatalf("large writev: %d, %v", n, err)
	}
	if _, err := Writev3(-1, buf, nil, nil); !errors.Is(err, unix.EBADF) {
		t.Fatalf("writev to fd -1: %v, want EBADF", err)
	}
}

func TestNoAllocations(t *testing.T) {
	a, b := socketPair(t)
	msg, hdr, buf := []byte("0123456789abcdef"), []byte{0x82, 16}, make([]byte, 64)
	allocs := testing.AllocsPerRun(1000, func() {
		Write(a, msg)
		Read(b, buf)
		Writev3(a, nil, hdr, msg)
		Read(b, buf)
		Read(b, buf) // EAGAIN
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per round, want 0", allocs)
	}
}

// BenchmarkWriteRead compares a 32-byte write and read on a socket pair
// through this package with the same through unix.Write and unix.Read.
func BenchmarkWriteRead(b *testing.B) {
	for _, bc := range []struct {
		name  string
		write func(int, []byte) (int, error)
		read  func(int, []byte) (int, error)
	}{{"sockio", Write, Read}, {"unix", unix.Write, unix.Read}} {
		b.Run(bc.name, func(b *testing.B) {
			x, y := socketPair(b)
			buf := make([]byte, 32)
			b.ReportAllocs()
			for b.Loop() {
				bc.write(x, buf)
				bc.read(y, buf)
			}
		})
	}
}
