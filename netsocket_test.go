//go:build unix

package lws

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lws-go/lws/evloop"
	"github.com/lws-go/lws/internal/sockio"
)

const netTestWait = 10 * time.Second

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (local, peer *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		ch <- res{c, err}
	}()
	d, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { d.Close(); r.c.Close() })
	return r.c.(*net.TCPConn), d.(*net.TCPConn)
}

// notes records a netSocket's notifications, one pending signal per
// event, as a loop would.
type notes struct {
	readable, writable chan struct{}
	count              atomic.Int64
}

func newNotes() *notes {
	return &notes{readable: make(chan struct{}, 1), writable: make(chan struct{}, 1)}
}

func (n *notes) notify(ev evloop.Events) {
	n.count.Add(1)
	if ev&evloop.Readable != 0 {
		signal(n.readable)
	}
	if ev&evloop.Writable != 0 {
		signal(n.writable)
	}
}

// awaitNote waits for a notification the socket owes after sockio.ErrAgain.
func awaitNote(t *testing.T, ch chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(netTestWait):
		t.Fatalf("no %s notification after sockio.ErrAgain", what)
	}
}

// readAllNet reads s to its end as a loop would: read until sockio.ErrAgain,
// then wait for Readable. It returns the bytes and the final error.
func readAllNet(t *testing.T, s *netSocket, n *notes, rng *rand.Rand) ([]byte, error) {
	t.Helper()
	var got []byte
	buf := make([]byte, 70<<10)
	for {
		k, err := s.read(buf[:1+rng.IntN(len(buf)-1)])
		switch {
		case err == nil:
			got = append(got, buf[:k]...)
		case err == sockio.ErrAgain:
			awaitNote(t, n.readable, "Readable")
		default:
			return got, err
		}
	}
}

// writeAllNet writes p to s as a loop would, in random writev batches.
func writeAllNet(t *testing.T, s *netSocket, n *notes, p []byte, rng *rand.Rand) {
	t.Helper()
	for len(p) > 0 {
		var bufs [][]byte
		rest := p
		for range 1 + rng.IntN(4) {
			k := min(len(rest), rng.IntN(40<<10))
			bufs, rest = append(bufs, rest[:k]), rest[k:]
		}
		k, err := s.writev(bufs...)
		switch {
		case err == nil:
			p = p[k:]
		case err == sockio.ErrAgain:
			awaitNote(t, n.writable, "Writable")
		default:
			t.Fatalf("writev: %v", err)
		}
	}
}

func netSeed(t *testing.T) uint64 {
	if s := os.Getenv("LWS_NETSOCKET_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d (LWS_NETSOCKET_SEED repeats it)", seed)
	return seed
}

// countingConn checks the read backpressure: every Read of the socket's
// reader starts only when the loop has taken all bytes read before, and
// asks for at most netReadMax bytes.
type countingConn struct {
	net.Conn
	sock    atomic.Pointer[netSocket] // the socket reading from it
	reads   atomic.Int64
	writing atomic.Int64 // 1 while the writer is inside Write
	bad     atomic.Value // string: the first violation
}

func (c *countingConn) Read(p []byte) (int, error) {
	c.reads.Add(1)
	if s := c.sock.Load(); s != nil {
		s.mu.Lock()
		if len(s.rbuf) > 0 {
			c.bad.CompareAndSwap(nil, fmt.Sprintf("Read called with %d bytes not taken by the loop", len(s.rbuf)))
		}
		s.mu.Unlock()
	}
	if len(p) > netReadMax {
		c.bad.CompareAndSwap(nil, fmt.Sprintf("Read of %d bytes, more than netReadMax", len(p)))
	}
	return c.Conn.Read(p)
}

func (c *countingConn) CloseWrite() error { return c.Conn.(*net.TCPConn).CloseWrite() }

func (c *countingConn) Write(p []byte) (int, error) {
	c.writing.Store(1)
	defer c.writing.Store(0)
	return c.Conn.Write(p)
}

// fillWrites writevs to s until it refuses while its writer is inside
// Write: the peer reads nothing, so the writer is stuck there once the
// kernel buffers are full. It returns the bytes accepted.
func fillWrites(t *testing.T, s *netSocket, cc *countingConn, n *notes) int {
	t.Helper()
	chunk := make([]byte, 32<<10)
	accepted := 0
	for {
		k, err := s.writev(chunk)
		switch {
		case err == nil:
			accepted += k
		case err != sockio.ErrAgain:
			t.Fatalf("writev: %v", err)
		case cc.writing.Load() == 1:
			return accepted
		default:
			awaitNote(t, n.writable, "Writable")
		}
		if accepted > 64<<20 {
			t.Fatalf("writev accepted %d bytes from a peer that reads nothing", accepted)
		}
	}
}

// TestNetSocketStreamRandom: both directions at once over loopback TCP,
// random read sizes and writev batches on the socket's side, random sizes
// on the peer's; the bytes arrive whole and in order (the model is the
// byte stream), the reader never reads ahead of the loop by more than one
// buffer, and shutdownWrite and the peer's close end both streams with
// EOF.
func TestNetSocketStreamRandom(t *testing.T) {
	seed := netSeed(t)
	for round := range 3 {
		local, peer := tcpPair(t)
		cc := &countingConn{Conn: local}
		n := newNotes()
		s := newNetSocket(cc, n.notify)
		cc.sock.Store(s)
		rng := rand.New(rand.NewPCG(seed, uint64(round)))
		out := make([]byte, 1<<20+rng.IntN(1<<20))
		in := make([]byte, 1<<20+rng.IntN(1<<20))
		for i := range out {
			out[i] = byte(rng.Uint32())
		}
		for i := range in {
			in[i] = byte(rng.Uint32())
		}
		peerGot := make(chan []byte, 1)
		peerErr := make(chan error, 2)
		go func() { // the peer reads at random sizes
			prng := rand.New(rand.NewPCG(seed, uint64(round)+100))
			var got []byte
			buf := make([]byte, 50<<10)
			for {
				k, err := peer.Read(buf[:1+prng.IntN(len(buf)-1)])
				got = append(got, buf[:k]...)
				if err == io.EOF {
					peerGot <- got
					return
				}
				if err != nil {
					peerErr <- err
					return
				}
			}
		}()
		go func() { // the peer writes at random sizes, then closes its side
			prng := rand.New(rand.NewPCG(seed, uint64(round)+200))
			p := in
			for len(p) > 0 {
				k := min(len(p), 1+prng.IntN(30<<10))
				if _, err := peer.Write(p[:k]); err != nil {
					peerErr <- err
					return
				}
				p = p[k:]
			}
			peerErr <- peer.CloseWrite()
		}()
		loopDone := make(chan []byte, 1)
		go func() { // the reading half of the "loop", counting what it takes
			var got []byte
			buf := make([]byte, 70<<10)
			rrng := rand.New(rand.NewPCG(seed, uint64(round)+300))
			for {
				k, err := s.read(buf[:1+rrng.IntN(len(buf)-1)])
				switch {
				case err == nil:
					got = append(got, buf[:k]...)
				case err == sockio.ErrAgain:
					select {
					case <-n.readable:
					case <-time.After(netTestWait):
						loopDone <- nil
						return
					}
				case err == io.EOF:
					loopDone <- got
					return
				default:
					loopDone <- nil
					return
				}
			}
		}()
		writeAllNet(t, s, n, out, rng)
		s.shutdownWrite()
		if _, err := s.writev([]byte("x")); err != errNetShut {
			t.Fatalf("writev after shutdownWrite: %v, want errNetShut", err)
		}
		var got, sent []byte
		for got == nil || sent == nil {
			select {
			case got = <-loopDone:
				if got == nil {
					t.Fatal("the socket's read failed or stalled (see above)")
				}
			case sent = <-peerGot:
			case err := <-peerErr:
				if err != nil {
					t.Fatalf("peer: %v", err)
				}
			case <-time.After(2 * netTestWait):
				t.Fatalf("streams did not end: socket read %v, peer read %v", got != nil, sent != nil)
			}
		}
		if !bytes.Equal(got, in) {
			t.Fatalf("round %d: the socket read %d bytes, differing from the %d the peer wrote", round, len(got), len(in))
		}
		if !bytes.Equal(sent, out) {
			t.Fatalf("round %d: the peer read %d bytes, differing from the %d written", round, len(sent), len(out))
		}
		if bad := cc.bad.Load(); bad != nil {
			t.Fatalf("read backpressure broken: %s", bad)
		}
		if err := s.close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		t.Logf("round %d: %d reads of the conn, %d notifications", round, cc.reads.Load(), n.count.Load())
	}
}

// TestNetSocketBackpressure: a slow reader bounds what the socket reads
// ahead (one buffer, checked at every Read of the conn), and a peer that
// does not read bounds what writev accepts (two buffers), until it reads.
func TestNetSocketBackpressure(t *testing.T) {
	local, peer := tcpPair(t)
	cc := &countingConn{Conn: local}
	n := newNotes()
	s := newNetSocket(cc, n.notify)
	cc.sock.Store(s)
	defer s.close()
	const total = 4 << 20
	go func() {
		chunk := make([]byte, 256<<10)
		for sent := 0; sent < total; sent += len(chunk) {
			if _, err := peer.Write(chunk); err != nil {
				return
			}
		}
	}()
	// The slow reader: small reads.
	buf := make([]byte, 100)
	for took := 0; took < total; {
		k, err := s.read(buf)
		switch {
		case err == nil:
			took += k
		case err == sockio.ErrAgain:
			awaitNote(t, n.readable, "Readable")
		default:
			t.Fatalf("read: %v", err)
		}
		if took%(512<<10) == 0 {
			s.mu.Lock()
			if len(s.rbuf) > netReadMax {
				t.Errorf("%d bytes read ahead", len(s.rbuf))
			}
			s.mu.Unlock()
		}
	}
	if bad := cc.bad.Load(); bad != nil {
		t.Fatalf("read backpressure broken: %s", bad)
	}

	// Writing to a peer that does not read: writev ends up refusing, and
	// the socket holds at most one buffer besides the one being written.
	accepted := fillWrites(t, s, cc, n)
	s.mu.Lock()
	held := len(s.wbuf)
	s.mu.Unlock()
	if held > netWriteMax {
		t.Fatalf("writev holds %d bytes", held)
	}
	// The peer reads: everything accepted arrives, Writable comes.
	got := make(chan int, 1)
	go func() {
		var m int
		b := make([]byte, 64<<10)
		for m < accepted {
			k, err := peer.Read(b)
			m += k
			if err != nil {
				break
			}
		}
		got <- m
	}()
	awaitNote(t, n.writable, "Writable")
	select {
	case m := <-got:
		if m != accepted {
			t.Fatalf("peer read %d of %d", m, accepted)
		}
	case <-time.After(netTestWait):
		t.Fatal("peer did not get what writev accepted")
	}
}

// TestNetSocketHalfClose: after shutdownWrite the peer reads the data, then
// EOF, and can still send; the peer's close then reads as io.EOF.
func TestNetSocketHalfClose(t *testing.T) {
	local, peer := tcpPair(t)
	n := newNotes()
	s := newNetSocket(local, n.notify)
	defer s.close()
	rng := rand.New(rand.NewPCG(1, 2))
	writeAllNet(t, s, n, []byte("last words"), rng)
	s.shutdownWrite()
	peer.SetReadDeadline(time.Now().Add(netTestWait))
	b, err := io.ReadAll(peer)
	if err != nil || string(b) != "last words" {
		t.Fatalf("peer read %q, %v; want the data then EOF", b, err)
	}
	if _, err := peer.Write([]byte("reply")); err != nil {
		t.Fatal(err)
	}
	peer.Close()
	got, err := readAllNet(t, s, n, rng)
	if err != io.EOF || string(got) != "reply" {
		t.Fatalf("socket read %q, %v; want \"reply\" then io.EOF", got, err)
	}
	if _, err := s.read(make([]byte, 10)); err != io.EOF {
		t.Fatalf("read after EOF: %v, want io.EOF again", err)
	}
}

// TestNetSocketReset: a reset by the peer is a read error, not EOF, and
// writes fail.
func TestNetSocketReset(t *testing.T) {
	local, peer := tcpPair(t)
	n := newNotes()
	s := newNetSocket(local, n.notify)
	defer s.close()
	peer.SetLinger(0)
	peer.Close()
	_, err := readAllNet(t, s, n, rand.New(rand.NewPCG(3, 4)))
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read after reset: %v, want ECONNRESET", err)
	}
	deadline := time.Now().Add(netTestWait)
	for {
		_, err := s.writev(make([]byte, 1<<10))
		if err != nil && err != sockio.ErrAgain {
			break
		}
		if err == sockio.ErrAgain {
			awaitNote(t, n.writable, "Writable")
		}
		if time.Now().After(deadline) {
			t.Fatal("writes to a reset connection never failed")
		}
	}
}

// closeWithin calls close and fails the test if it does not return.
func closeWithin(t *testing.T, close func() error) error {
	t.Helper()
	closed := make(chan error, 1)
	go func() { closed <- close() }()
	select {
	case err := <-closed:
		return err
	case <-time.After(netTestWait):
		t.Fatal("close did not return")
		return nil
	}
}

// socketGoroutines returns the stacks of the goroutines running a
// netSocket's or netAcceptor's loops.
func socketGoroutines() string {
	buf := make([]byte, 1<<20)
	var out []string
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "(*netSocket).readLoop") || strings.Contains(g, "(*netSocket).writeLoop") || strings.Contains(g, "(*netAcceptor).run") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}

// waitGoroutines waits until no more than base goroutines run.
func waitGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(netTestWait)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
}

// TestNetSocketCloseWhileBlocked: close returns, and both goroutines end,
// with the reader blocked in Read or waiting for the loop to take its
// bytes, and the writer blocked in Write to a peer that reads nothing:
// then, as close(2) of a socket, what was accepted still reaches the
// peer, followed by the end of the stream.
func TestNetSocketCloseWhileBlocked(t *testing.T) {
	for _, state := range []string{"idle", "read pending", "write blocked"} {
		t.Run(state, func(t *testing.T) {
			local, peer := tcpPair(t)
			base := runtime.NumGoroutine()
			n := newNotes()
			cc := &countingConn{Conn: local}
			s := newNetSocket(cc, n.notify)
			switch state {
			case "idle":
				for cc.reads.Load() == 0 {
					runtime.Gosched()
				}
			case "read pending":
				peer.Write([]byte("unread"))
				awaitNote(t, n.readable, "Readable")
			case "write blocked":
				accepted := fillWrites(t, s, cc, n)
				if err := closeWithin(t, s.close); err != nil {
					t.Fatalf("close: %v", err)
				}
				got, err := io.Copy(io.Discard, peer)
				if err != nil || got != int64(accepted) {
					t.Fatalf("the peer read %d bytes (%v) after close, want the %d accepted, then EOF", got, err, accepted)
				}
			}
			if err := closeWithin(t, s.close); err != nil {
				t.Fatalf("close: %v", err)
			}
			if g := socketGoroutines(); g != "" && state != "write blocked" {
				t.Fatalf("close returned before the socket's goroutines ended:\n%s", g)
			}
			waitGoroutines(t, base)
			if _, err := s.read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("read after close: %v", err)
			}
			if _, err := s.writev([]byte("x")); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("writev after close: %v", err)
			}
			if err := s.close(); err != nil {
				t.Fatalf("second close: %v", err)
			}
		})
	}
}

// flakyListener fails its first Accepts, then accepts from a real one.
type flakyListener struct {
	net.Listener
	failures atomic.Int64
}

var errAcceptTest = errors.New("accept failed for the test")

func (l *flakyListener) Accept() (net.Conn, error) {
	if l.failures.Add(-1) >= 0 {
		return nil, errAcceptTest
	}
	return l.Listener.Accept()
}

// TestNetAcceptor: each accepted conn reaches the callback, Accept errors
// reach failed and are retried, and close stops the goroutine.
func TestNetAcceptor(t *testing.T) {
	base := runtime.NumGoroutine()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fl := &flakyListener{Listener: ln}
	fl.failures.Store(3)
	conns := make(chan net.Conn, 8)
	var mu sync.Mutex
	var failed []error
	a := newNetAcceptor(fl)
	a.start(func(c net.Conn) { conns <- c }, func(err error) time.Duration {
		mu.Lock()
		failed = append(failed, err)
		mu.Unlock()
		return 0
	})
	for i := range 3 {
		d, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		var c net.Conn
		select {
		case c = <-conns:
		case <-time.After(netTestWait):
			t.Fatalf("conn %d not handed over", i)
		}
		if c.RemoteAddr().String() != d.LocalAddr().String() {
			t.Fatalf("handed %v, dialled from %v", c.RemoteAddr(), d.LocalAddr())
		}
		c.Close()
		d.Close()
	}
	mu.Lock()
	if len(failed) != 3 || failed[0] != errAcceptTest {
		t.Fatalf("failed got %v, want the 3 Accept errors", failed)
	}
	mu.Unlock()
	if err := closeWithin(t, a.close); err != nil {
		t.Fatalf("close: %v", err)
	}
	if g := socketGoroutines(); g != "" {
		t.Fatalf("close returned before the acceptor's goroutine ended:\n%s", g)
	}
	waitGoroutines(t, base)
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Fatal("listener still accepting after close")
	}

	// close during the pause after an error.
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fl2 := &flakyListener{Listener: ln2}
	fl2.failures.Store(1 << 30)
	failing := make(chan struct{}, 1)
	a2 := newNetAcceptor(fl2)
	var calls atomic.Int32
	a2.start(func(c net.Conn) { c.Close() }, func(error) time.Duration {
		signal(failing)
		if calls.Add(1) == 1 {
			return 0 // the back-off
		}
		return time.Hour // a pause asked for by the callback
	})
	<-failing
	<-failing // a retry happened after the back-off: the hour's pause is running
	closeWithin(t, a2.close)
	if g := socketGoroutines(); g != "" {
		t.Fatalf("close during the back-off returned before the goroutine ended:\n%s", g)
	}
	waitGoroutines(t, base)
}

// TestNetSocketLevelReadiness: the loop sees a level-triggered socket. A
// read that leaves bytes behind, and a writev that leaves room, notify
// again at once, so a loop that stops reading early (a batch limit,
// PauseRx) or starts watching for writability later is not left waiting
// for an edge that already passed.
func TestNetSocketLevelReadiness(t *testing.T) {
	local, peer := tcpPair(t)
	n := newNotes()
	s := newNetSocket(local, n.notify)
	defer s.close()
	awaitNote(t, n.writable, "initial Writable")

	if _, err := peer.Write([]byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	awaitNote(t, n.readable, "Readable")
	p := make([]byte, 3)
	for want := 10; want > 0; {
		k, err := s.read(p)
		if err != nil {
			t.Fatalf("read: %d, %v", k, err)
		}
		want -= k
		if want > 0 {
			select {
			case <-n.readable:
			default:
				t.Fatalf("a read left %d bytes and no Readable notification", want)
			}
		}
	}

	select { // drop what the reads above left
	case <-n.writable:
	default:
	}
	if k, err := s.writev([]byte("ab")); k != 2 || err != nil {
		t.Fatalf("writev: %d, %v", k, err)
	}
	select {
	case <-n.writable:
	default:
		t.Fatal("a writev left room and no Writable notification")
	}
}

// closeCountingConn is a net.Conn whose Write blocks until failWrite and
// then fails, and that counts Close calls.
type closeCountingConn struct {
	net.Conn
	inWrite chan struct{} // closed when Write is first entered
	fail    chan struct{} // closed to make the blocked Write fail
	entered sync.Once
	closes  atomic.Int32
}

func (c *closeCountingConn) Write(p []byte) (int, error) {
	c.entered.Do(func() { close(c.inWrite) })
	<-c.fail
	return 0, syscall.ECONNRESET
}

func (c *closeCountingConn) Close() error {
	c.closes.Add(1)
	return c.Conn.Close()
}

// TestNetSocketCloseAfterWriteFailed: the write fails (the peer reset)
// while more output waits for the writer, which has ended; closing the
// socket then closes the conn at once instead of leaving the rest to a
// writer that is gone (which leaked the descriptor).
func TestNetSocketCloseAfterWriteFailed(t *testing.T) {
	base := runtime.NumGoroutine()
	local, _ := tcpPair(t)
	cc := &closeCountingConn{Conn: local, inWrite: make(chan struct{}), fail: make(chan struct{})}
	n := newNotes()
	s := newNetSocket(cc, n.notify)
	if _, err := s.writev([]byte("first")); err != nil {
		t.Fatal(err)
	}
	<-cc.inWrite
	if k, err := s.writev([]byte("waits for the writer")); k == 0 || err != nil {
		t.Fatalf("writev while the writer is busy: %d, %v", k, err)
	}
	close(cc.fail)
	deadline := time.Now().Add(netTestWait)
	for {
		if _, err := s.writev([]byte("x")); errors.Is(err, syscall.ECONNRESET) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the write error never reached writev")
		}
		time.Sleep(time.Millisecond) // polling for the writer to record its failure
	}
	closeWithin(t, s.close)
	deadline = time.Now().Add(netTestWait)
	for cc.closes.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the conn was never closed")
		}
		time.Sleep(time.Millisecond)
	}
	waitGoroutines(t, base)
}
