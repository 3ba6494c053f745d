//go:build unix

package interop

import (
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"
)

var (
	pingHeadRE    = regexp.MustCompile(`^Websocket PING 127\.0\.0\.1 \(127\.0\.0\.1\) (\d+) bytes of data\.$`)
	pingReplyRE   = regexp.MustCompile(`^(\d+) bytes from 127\.0\.0\.1: req=(\d+) time=(\d+\.\d{3})ms$`)
	pingDupRE     = regexp.MustCompile(`^DUP! `)
	pingStatsRE   = regexp.MustCompile(`^(\d+) packets transmitted, (\d+) received, (\d+)% packet loss, time (\d+)ms$`)
	pingRTTRE     = regexp.MustCompile(`^rtt min/avg/max = (\d+\.\d{3})/(\d+\.\d{3})/(\d+\.\d{3}) ms$`)
	pingBwRE      = regexp.MustCompile(`^payload bandwidth average \d+\.\d{3} KiBytes/sec$`)
	pingSummaryRE = regexp.MustCompile(`^--- 127\.0\.0\.1 websocket ping statistics using (\d+) connections ---$`)
)

// runPing runs lws-test-ping against port until it has printed want
// replies, interrupts it, and checks its output: every request of every
// connection answered once, in order, and a summary with no loss.
func runPing(t *testing.T, port int, clients, size, want int, args ...string) {
	t.Helper()
	args = append([]string{"127.0.0.1", "--port", strconv.Itoa(port), "-r", strconv.Itoa(clients), "-s", strconv.Itoa(size)}, args...)
	p := start(t, app(t, "lws-test-ping"), args...)
	if !p.waitFor(60*time.Second, func(out string) bool { return len(matches(out, pingReplyRE)) >= want }) {
		t.Fatalf("fewer than %d replies within 60s:\n%s", want, tail(p.Output(), 30))
	}
	p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("lws-test-ping did not exit after SIGINT:\n%s", tail(p.Output(), 30))
	}
	out := p.Output()
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("lws-test-ping exited with %d:\n%s", code, tail(out, 30))
	}
	if h := matches(out, pingHeadRE); len(h) != 1 || h[0][1] != strconv.Itoa(size) {
		t.Errorf("header line: %q", h)
	}
	if d := matches(out, pingDupRE); len(d) > 0 {
		t.Errorf("duplicates on loopback: %q", d[0][0])
	}
	// With several connections their lines interleave, but each request
	// number is answered once per connection, so number n appears exactly
	// `clients` times once every connection has passed it.
	replies := matches(out, pingReplyRE)
	count := map[int]int{}
	maxReq := 0
	for _, r := range replies {
		if r[1] != strconv.Itoa(size) {
			t.Fatalf("reply of %s bytes, want %d: %q", r[1], size, r[0])
		}
		n, _ := strconv.Atoi(r[2])
		count[n]++
		maxReq = max(maxReq, n)
	}
	for n := 1; n <= maxReq; n++ {
		if count[n] == 0 || count[n] > clients {
			t.Fatalf("request %d answered %d times (%d connections)", n, count[n], clients)
		}
	}
	if s := matches(out, pingSummaryRE); len(s) != 1 || s[0][1] != strconv.Itoa(clients) {
		t.Fatalf("no summary after SIGINT:\n%s", tail(out, 10))
	}
	st := matches(out, pingStatsRE)
	if len(st) != 1 {
		t.Fatalf("no statistics line:\n%s", tail(out, 10))
	}
	txN, _ := strconv.Atoi(st[0][1])
	rxN, _ := strconv.Atoi(st[0][2])
	if txN != rxN || st[0][3] != "0" || rxN != len(replies) {
		t.Errorf("statistics %q: want no loss and %d received (the reply lines printed)", st[0][0], len(replies))
	}
	rtt := matches(out, pingRTTRE)
	if len(rtt) != 1 {
		t.Fatalf("no rtt line:\n%s", tail(out, 10))
	}
	lo, _ := strconv.ParseFloat(rtt[0][1], 64)
	avg, _ := strconv.ParseFloat(rtt[0][2], 64)
	hi, _ := strconv.ParseFloat(rtt[0][3], 64)
	if !(lo <= avg && avg <= hi && hi > 0) {
		t.Errorf("rtt min/avg/max out of order: %q", rtt[0][0])
	}
	if len(matches(out, pingBwRE)) != 1 {
		t.Errorf("no bandwidth line:\n%s", tail(out, 10))
	}
	t.Logf("%s", st[0][0])
}

// TestPingOurServer: PINGs (two connections) and -m messages through the
// mirror of our lws-test-server. The mirror run passes request 128, where
// the index no longer fits 7 bits.
func TestPingOurServer(t *testing.T) {
	_, port := startServer(t)
	t.Run("ping", func(t *testing.T) { runPing(t, port, 2, 64, 40, "-i", "0.02") })
	t.Run("mirror", func(t *testing.T) { runPing(t, port, 2, 200, 2*140, "-i", "0.005", "-m") })
}

// TestPingCServer: the same against Debian's C libwebsockets-test-server.
func TestPingCServer(t *testing.T) {
	port := startCTestServer(t)
	// The C server answers only the latest of PINGs that arrive while its
	// PONG is pending (RFC 6455 5.5.3 allows it), and it can take tens of
	// milliseconds to send one: ping it less often so that PINGs never
	// overlap and every one must be answered.
	t.Run("ping", func(t *testing.T) { runPing(t, port, 2, 125, 30, "-i", "0.1") })
	t.Run("mirror", func(t *testing.T) { runPing(t, port, 1, 64, 140, "-i", "0.005", "-m") })
}
