//go:build lwsfault && unix

package sockio

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// faults sets f for one test and stops injection at its end.
func faults(t *testing.T, f Faults) {
	t.Helper()
	if err := SetFaults(f); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { SetFaults(Faults{}) })
}

func TestFaultsShortCalls(t *testing.T) {
	a, b := socketPair(t)
	faults(t, Faults{Seed: 1, ShortRead: 1, ShortWrite: 1})
	before := InjectedFaults()
	msg := []byte("0123456789abcdef")
	sent := 0
	for sent < len(msg) {
		n, err := Write(a, msg[sent:])
		if err != nil || n <= 0 || (len(msg)-sent > 1 && n >= len(msg)-sent) {
			t.Fatalf("write of %d bytes: %d, %v, want a short write", len(msg)-sent, n, err)
		}
		sent += n
	}
	got := make([]byte, 0, len(msg))
	buf := make([]byte, 64)
	for len(got) < len(msg) {
		n, err := Read(b, buf)
		if err != nil || n <= 0 || n >= len(buf) {
			t.Fatalf("read: %d, %v, want a short read", n, err)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != string(msg) {
		t.Fatalf("read %q, wrote %q", got, msg)
	}
	n, err := Writev3(a, []byte("queued "), []byte("hdr "), []byte("payload"))
	if err != nil || n <= 0 || n >= 18 {
		t.Fatalf("writev: %d, %v, want a short writev", n, err)
	}
	d := InjectedFaults().Sub(before)
	if d.ShortWrites == 0 || d.ShortReads == 0 || d.Calls < d.ShortReads+d.ShortWrites {
		t.Fatalf("counted %v", d)
	}
}

func TestFaultsEAGAINMovesNothing(t *testing.T) {
	a, b := socketPair(t)
	faults(t, Faults{Seed: 2, EAGAIN: 1})
	if n, err := Write(a, []byte("x")); n != 0 || err != ErrAgain {
		t.Fatalf("write: %d, %v, want ErrAgain", n, err)
	}
	if n, err := Writev3(a, nil, []byte("x"), nil); n != 0 || err != ErrAgain {
		t.Fatalf("writev: %d, %v, want ErrAgain", n, err)
	}
	SetFaults(Faults{})
	Write(a, []byte("y"))
	faults(t, Faults{Seed: 2, EAGAIN: 1})
	if n, err := Read(b, make([]byte, 8)); n != 0 || err != ErrAgain {
		t.Fatalf("read: %d, %v, want ErrAgain", n, err)
	}
	SetFaults(Faults{})
	buf := make([]byte, 8)
	if n, err := Read(b, buf); n != 1 || err != nil || buf[0] != 'y' {
		t.Fatalf("after the faults: %d, %v, %q: only the unfaulted write's byte is there", n, err, buf[:n])
	}
}

// An interrupted call is retried inside the package: callers see every
// call succeed, and the EINTRs are counted.
func TestFaultsEINTRIsRetried(t *testing.T) {
	a, b := socketPair(t)
	faults(t, Faults{Seed: 3, EINTR: 0.9})
	before := InjectedFaults()
	buf := make([]byte, 8)
	for i := range 20 {
		if n, err := Write(a, []byte("x")); n != 1 || err != nil {
			t.Fatalf("write %d: %d, %v", i, n, err)
		}
		if n, err := Writev3(a, nil, []byte("y"), nil); n != 1 || err != nil {
			t.Fatalf("writev %d: %d, %v", i, n, err)
		}
		if n, err := Read(b, buf); n != 2 || err != nil || string(buf[:n]) != "xy" {
			t.Fatalf("read %d: %d, %v, %q", i, n, err, buf[:n])
		}
	}
	if d := InjectedFaults().Sub(before); d.EINTRs < 20 {
		t.Fatalf("counted %v: want many EINTRs at a probability of 0.9", d)
	}
	if err := SetFaults(Faults{EINTR: 1}); err == nil {
		t.Fatal("SetFaults accepted an EINTR probability of 1, which retries forever")
	}
}

// Descriptors that are not sockets (the loops' eventfds and pipes) never
// see a fault.
func TestFaultsSpareNonSockets(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	faults(t, Faults{Seed: 4, EAGAIN: 1, EINTR: 0.5, ShortRead: 1, ShortWrite: 1})
	before := InjectedFaults()
	if n, err := Write(p[1], []byte("12345678")); n != 8 || err != nil {
		t.Fatalf("pipe write: %d, %v", n, err)
	}
	if n, err := Read(p[0], make([]byte, 8)); n != 8 || err != nil {
		t.Fatalf("pipe read: %d, %v", n, err)
	}
	if d := InjectedFaults().Sub(before); d != (FaultCounts{}) {
		t.Fatalf("faults on a pipe: %v", d)
	}
}

func TestResetAfter(t *testing.T) {
	a, b := socketPair(t)
	tripped := 0
	if err := ResetAfter(a, 10, func() { tripped++ }); err != nil {
		t.Fatal(err)
	}
	before := InjectedFaults()
	if n, err := Write(a, []byte("0123456")); n != 7 || err != nil {
		t.Fatalf("write before the mark: %d, %v", n, err)
	}
	Write(b, []byte("abcdef"))
	buf := make([]byte, 64)
	if n, err := Read(a, buf); n != 3 || err != nil || string(buf[:n]) != "abc" {
		t.Fatalf("read up to the mark: %d, %v, %q, want 3 bytes", n, err, buf[:n])
	}
	if tripped != 0 {
		t.Fatal("tripped before the mark was passed")
	}
	if _, err := Read(a, buf); err != unix.ECONNRESET {
		t.Fatalf("read past the mark: %v, want ECONNRESET", err)
	}
	if _, err := Write(a, buf); err != unix.EPIPE {
		t.Fatalf("write past the mark: %v, want EPIPE", err)
	}
	if _, err := Read(a, buf); err != unix.ECONNRESET {
		t.Fatalf("read again: %v, want ECONNRESET", err)
	}
	if tripped != 1 || InjectedFaults().Sub(before).Resets != 1 {
		t.Fatalf("tripped %d times, %v", tripped, InjectedFaults().Sub(before))
	}
	if got, err := unix.GetsockoptLinger(a, unix.SOL_SOCKET, unix.SO_LINGER); err != nil || *got != (unix.Linger{Onoff: 1, Linger: 0}) {
		t.Fatalf("SO_LINGER after the reset: %+v, %v, want on with 0 seconds", got, err)
	}
	// The peer still works: the reset is on one socket only.
	if n, err := Read(b, buf); n != 7 || err != nil {
		t.Fatalf("peer read: %d, %v", n, err)
	}
}

// A reset armed on a socket closed before it tripped does not touch the
// next socket given the same fd number.
func TestResetAfterForgetsClosedSocket(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := ResetAfter(fds[0], 0, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { SetFaults(Faults{}) })
	unix.Close(fds[0])
	unix.Close(fds[1])
	x, b := socketPair(t)
	a := fds[0] // the new socket on the armed socket's fd number
	if x != a {
		if err := unix.Dup3(x, a, unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Close(a) })
	}
	if n, err := Write(a, []byte("x")); n != 1 || err != nil {
		t.Fatalf("write on the new socket: %d, %v", n, err)
	}
	if n, err := Read(b, make([]byte, 4)); n != 1 || err != nil {
		t.Fatalf("read on the new socket: %d, %v", n, err)
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	if err := ResetAfter(p[0], 0, nil); err == nil || errors.Is(err, errNoFaults) {
		t.Fatalf("ResetAfter on a pipe: %v", err)
	}
}

func TestSetFaultsRefusesBadProbability(t *testing.T) {
	if err := SetFaults(Faults{EAGAIN: 1.5}); err == nil {
		t.Fatal("accepted a probability of 1.5")
	}
	SetFaults(Faults{})
}
