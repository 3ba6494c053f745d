//go:build lwsfault && unix

package sockio

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"syscall"
	"testing"
	"time"
)

// A wrapped conn moves every byte in order through short reads and split
// writes (and yields and retries for EAGAIN and EINTR), and counts them.
func TestWrapConnShortCallsKeepTheStream(t *testing.T) {
	a, b := tcpPair(t)
	w := WrapConn(a)
	if _, ok := w.(*faultConn); !ok {
		t.Fatalf("WrapConn of a TCP conn returned a %T", w)
	}
	if ConnFD(w) < 0 || ConnFD(w) != ConnFD(a) {
		t.Fatalf("ConnFD: %d through the wrapper, %d without", ConnFD(w), ConnFD(a))
	}
	faults(t, Faults{Seed: 7, ShortRead: 0.7, ShortWrite: 0.7, EAGAIN: 0.2, EINTR: 0.2})
	before := InjectedFaults()
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(rand.Uint32())
	}
	// Out through the wrapper, in through the plain peer...
	go func() { w.Write(data) }()
	got := make([]byte, len(data))
	b.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadFull(b, got); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("written through the wrapper: %v, equal %v", err, bytes.Equal(got, data))
	}
	// ...and back in through the wrapper, read in calls of at most 64 KiB.
	go func() { b.Write(data) }()
	w.SetReadDeadline(time.Now().Add(30 * time.Second))
	got = got[:0]
	buf := make([]byte, 64<<10)
	for len(got) < len(data) {
		n, err := w.Read(buf)
		if err != nil {
			t.Fatalf("read through the wrapper after %d bytes: %v", len(got), err)
		}
		got = append(got, buf[:n]...)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("read through the wrapper: the bytes differ")
	}
	c := InjectedFaults().Sub(before)
	if c.ShortReads == 0 || c.ShortWrites == 0 || c.EAGAINs == 0 || c.EINTRs == 0 {
		t.Fatalf("faults injected: %v", c)
	}
}

// A reset armed on the descriptor under a wrapped conn trips after the
// given bytes: the write passing the mark fails with EPIPE having moved
// exactly up to it, a read then fails with ECONNRESET, and closing sends
// the peer a reset after those bytes.
func TestWrapConnResetAfter(t *testing.T) {
	a, b := tcpPair(t)
	w := WrapConn(a)
	tripped := 0
	if err := ResetAfter(ConnFD(w), 1000, func() { tripped++ }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { SetFaults(Faults{}) })
	n, err := w.Write(make([]byte, 5000))
	if n != 1000 || !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("write across the mark: %d, %v; want 1000, EPIPE", n, err)
	}
	if _, err := w.Read(make([]byte, 10)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read after the reset: %v, want ECONNRESET", err)
	}
	if tripped != 1 {
		t.Fatalf("tripped %d times", tripped)
	}
	w.Close()
	b.SetReadDeadline(time.Now().Add(30 * time.Second))
	got, err := io.ReadAll(b)
	if len(got) != 1000 || !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("the peer read %d bytes, then %v; want 1000, then ECONNRESET", len(got), err)
	}
}

// WrapConn leaves a conn without a descriptor of its own as it is.
func TestWrapConnLeavesPipes(t *testing.T) {
	p, q := net.Pipe()
	defer p.Close()
	defer q.Close()
	if WrapConn(p) != p || ConnFD(p) != -1 {
		t.Fatal("a net.Pipe conn was wrapped")
	}
}

// A wrapped conn is read and written by two goroutines at once (the
// portable backend's reader and writer): a reset armed on it is shared
// by both, and trips once (the race detector checks the sharing).
func TestWrapConnResetSharedByReaderAndWriter(t *testing.T) {
	a, b := tcpPair(t)
	w := WrapConn(a)
	faults(t, Faults{Seed: 3, ShortRead: 0.5, ShortWrite: 0.5}) // first: SetFaults forgets armed resets
	tripped := make(chan struct{}, 2)
	if err := ResetAfter(ConnFD(w), 200<<10, func() { tripped <- struct{}{} }); err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, b)
	go b.Write(make([]byte, 1<<20))
	done := make(chan error, 2)
	go func() {
		_, err := w.Write(make([]byte, 1<<20))
		done <- err
	}()
	go func() {
		_, err := io.Copy(io.Discard, w)
		done <- err
	}()
	for range 2 {
		select {
		case err := <-done:
			if !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("a call after the reset: %v, want EPIPE or ECONNRESET", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the reset never tripped")
		}
	}
	if len(tripped) != 1 {
		t.Fatalf("tripped %d times", len(tripped))
	}
}
