//go:build unix

package interop

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lws-go/lws/wsproto"
)

// limitRE matches the server's startup NOTICE about its connection table.
var limitRE = regexp.MustCompile(`\] N: connection table: (\d+) slots, (\d+) bytes; up to (\d+) connections \(RLIMIT_NOFILE soft limit (\d+), (\d+) fds in use\)`)

// tableSizing is what the server logged about its connection table.
type tableSizing struct{ slots, bytes, maxConns, soft, open int }

func parseSizing(t *testing.T, out string) tableSizing {
	t.Helper()
	m := limitRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no connection table NOTICE in the server's output:\n%s", out)
	}
	var n [5]int
	for i := range n {
		n[i], _ = strconv.Atoi(m[i+1])
	}
	return tableSizing{n[0], n[1], n[2], n[3], n[4]}
}

// startLimitedServer runs lws-test-server with RLIMIT_NOFILE set to nofile
// (soft and hard) by prlimit, which execs it in place, so the pid is the
// server's.
func startLimitedServer(t *testing.T, nofile int) (*proc, int, tableSizing) {
	t.Helper()
	prlimit := requirePeer(t, "prlimit")
	p, port := startServerVia(t, []string{prlimit, fmt.Sprintf("--nofile=%d:%d", nofile, nofile), "--"})
	if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p.cmd.Process.Pid)); strings.TrimSpace(string(comm)) != "lws-test-server" {
		t.Fatalf("pid %d is %q, not the server (prlimit did not exec it in place)", p.cmd.Process.Pid, comm)
	}
	return p, port, parseSizing(t, p.Output())
}

// TestConnLimitUnderLowRlimit runs lws-test-server under RLIMIT_NOFILE 64
// and opens far more connections than that: every connection the server
// admitted keeps receiving its dumb-increment numbers, the surplus is
// refused at once (accepted and closed, never left hanging), refusing costs
// the server less CPU per connection than serving one does (measured in the
// same run), one warning covers a burst, and once clients leave new ones
// get in.
func TestConnLimitUnderLowRlimit(t *testing.T) {
	const nofile = 64
	p, port, sz := startLimitedServer(t, nofile)
	pid := p.cmd.Process.Pid
	t.Logf("server: %+v", sz)
	if sz.soft != nofile || sz.slots != nofile || sz.maxConns <= 0 || sz.maxConns+sz.open >= nofile {
		t.Fatalf("sizing under RLIMIT_NOFILE %d: %+v (want a limit below %d less the fds in use)", nofile, sz, nofile)
	}

	// Fill all but one slot.
	var holders []*dumbHolder
	defer func() {
		for _, h := range holders {
			h.stop()
		}
	}()
	for len(holders) < sz.maxConns-1 {
		h, err := newDumbHolder(port)
		if err != nil {
			t.Fatalf("holder %d of %d: %v", len(holders)+1, sz.maxConns, err)
		}
		holders = append(holders, h)
	}

	// The reference: server CPU per connection served through its whole
	// life (accept, handshake, close handshake, close) in the free slot.
	const rounds = 1500
	cpu0, servedStart := procCPU(t, pid), time.Now()
	for i := range rounds {
		ws, err := wsDial(port, "dumb-increment-protocol")
		if err != nil {
			t.Fatalf("served connection %d: %v", i, err)
		}
		err = ws.closeHandshake()
		ws.Close()
		if err != nil {
			t.Fatalf("served connection %d: %v", i, err)
		}
	}
	servedCPU, servedWall := procCPU(t, pid)-cpu0, time.Since(servedStart)

	// Take the last slot; from now on every new connection is surplus.
	h, err := newDumbHolder(port)
	if err != nil {
		t.Fatalf("last holder: %v", err)
	}
	holders = append(holders, h)
	before := make([]int, len(holders))
	for i, h := range holders {
		before[i], _ = h.received()
	}
	warnsBefore := strings.Count(p.Output(), "at the connection limit")

	// Hammer: 4 clients at a time, each sending a handshake on a new
	// connection and reading; the server must end every one of them
	// without a response.
	start := time.Now()
	cpu0 = procCPU(t, pid)
	var refused, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range rounds / 4 {
				if err := refusedAttempt(port); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				refused.Add(1)
			}
		})
	}
	wg.Wait()
	refusedCPU := procCPU(t, pid) - cpu0
	elapsed := time.Since(start)
	if failed.Load() > 0 {
		t.Fatalf("%d of %d connections over the limit were not refused cleanly; first: %v", failed.Load(), rounds, firstErr.Load())
	}
	t.Logf("served %d connections for %v of server CPU (%v each) in %v; refused %d for %v (%v each) in %v",
		rounds, servedCPU, servedCPU/rounds, servedWall.Round(time.Millisecond), refused.Load(), refusedCPU, refusedCPU/time.Duration(refused.Load()), elapsed.Round(time.Millisecond))

	// One warning per burst (the listener repeats it at most once a second
	// while the burst lasts), not one per connection.
	warns := strings.Count(p.Output(), "at the connection limit") - warnsBefore
	if warns < 1 || warns > int(elapsed/time.Second)+2 {
		t.Errorf("%d warnings for %d refusals in %v; want one per burst (at most one a second)", warns, rounds, elapsed)
	}

	// Every admitted client kept receiving its numbers, in order. The wait
	// for 10 more numbers each also measures the server's CPU for the
	// holders alone, to take out of both phases above.
	bgCPU0, bgStart := procCPU(t, pid), time.Now()
	for i, h := range holders {
		if ok := waitUntil(30*time.Second, func() bool { n, err := h.received(); return err != nil || n > before[i]+10 }); !ok {
			n, _ := h.received()
			t.Fatalf("holder %d stalled at %d numbers", i, n)
		}
		if n, err := h.received(); err != nil {
			t.Fatalf("holder %d after %d numbers: %v", i, n, err)
		}
	}
	bgRate := float64(procCPU(t, pid)-bgCPU0) / float64(time.Since(bgStart))
	servedNet := servedCPU - time.Duration(bgRate*float64(servedWall))
	refusedNet := refusedCPU - time.Duration(bgRate*float64(elapsed))
	t.Logf("holders alone keep the server %.1f%% busy; without that: served %v, refused %v", bgRate*100, servedNet, refusedNet)
	if refusedNet >= servedNet {
		t.Errorf("refusing %d connections took %v of server CPU, not less than serving as many (%v)", rounds, refusedNet, servedNet)
	}

	// Half the clients leave; as many new ones get in.
	leaving := len(holders) / 2
	for _, h := range holders[:leaving] {
		h.stop()
	}
	holders = holders[leaving:]
	for i := range leaving {
		var h *dumbHolder
		ok := waitUntil(30*time.Second, func() bool {
			var err error
			h, err = newDumbHolder(port)
			return err == nil
		})
		if !ok {
			t.Fatalf("after %d clients left, new client %d was not admitted", leaving, i)
		}
		holders = append(holders, h)
	}
	for i, h := range holders[len(holders)-leaving:] {
		if !waitUntil(30*time.Second, func() bool { n, err := h.received(); return err != nil || n >= 2 }) {
			t.Fatalf("new client %d received no numbers", i)
		}
		if n, err := h.received(); err != nil {
			t.Fatalf("new client %d after %d numbers: %v", i, n, err)
		}
	}
}

// refusedAttempt connects and sends a handshake request; the server must
// end the connection (FIN or RST) without sending a byte.
func refusedAttempt(port int) error {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 10*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := io.WriteString(c, handshakeRequest(wsproto.NewClientKey(), "dumb-increment-protocol")); err != nil && !isClosedByPeer(err) && !errors.Is(err, syscall.EPIPE) {
		return err
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b [1]byte
	if n, err := c.Read(b[:]); n > 0 || !isClosedByPeer(err) {
		return fmt.Errorf("over the limit: read %d bytes, %v; want the connection closed without an answer", n, err)
	}
	return nil
}

// waitUntil polls cond every 20ms until it holds or timeout passes.
func waitUntil(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}
