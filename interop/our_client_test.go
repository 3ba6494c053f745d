//go:build unix

package interop

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	ourRxRE         = regexp.MustCompile(`^rx (\d+) '(\d+)'$`)
	ourMirrorOpenRE = regexp.MustCompile(`^opened mirror connection with (\d+) lifetime$`)
	ourMirrorDoneRE = regexp.MustCompile(`^mirror: LWS_CALLBACK_CLOSED mirror_lifetime=0$`)
	ourErrorRE      = regexp.MustCompile(`^ERROR: .*`)
)

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startCTestServer runs Debian's C libwebsockets-test-server (4.1.6) on a
// free port and returns the port once it accepts connections.
func startCTestServer(t *testing.T) int {
	t.Helper()
	bin := requirePeer(t, "libwebsockets-test-server")
	port := freePort(t)
	p := start(t, bin, "--port="+strconv.Itoa(port))
	ok := waitUntil(20*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	if !ok {
		t.Fatalf("libwebsockets-test-server did not start on port %d:\n%s", port, p.Output())
	}
	return port
}

// runOurClient runs our lws-test-client against port until it has seen
// enough dumb-increment numbers and mirror lifetimes, then checks them:
// the numbers count up from 0 at about 20 Hz, every mirror connection
// lives out its lifetime and is reopened, and nothing is logged as an
// error.
func runOurClient(t *testing.T, port int) {
	const wantNumbers, wantCycles = 40, 3
	c := start(t, app(t, "lws-test-client"), "127.0.0.1", "--port", strconv.Itoa(port))
	var firstAt, lastAt time.Time
	ok := c.waitFor(90*time.Second, func(out string) bool {
		n := len(matches(out, ourRxRE))
		if n >= 1 && firstAt.IsZero() {
			firstAt = time.Now()
		}
		if n >= wantNumbers && lastAt.IsZero() {
			lastAt = time.Now()
		}
		return n >= wantNumbers && len(matches(out, ourMirrorDoneRE)) >= wantCycles
	})
	out := c.Output()
	rx := matches(out, ourRxRE)
	if !ok {
		t.Fatalf("after 90s: %d numbers, %d mirror connections opened, %d lived out their lifetime",
			len(rx), len(matches(out, ourMirrorOpenRE)), len(matches(out, ourMirrorDoneRE)))
	}
	if errs := matches(out, ourErrorRE); len(errs) > 0 {
		t.Errorf("lws-test-client reported %d errors, first: %s", len(errs), errs[0][0])
	}
	for i, m := range rx {
		if n, _ := strconv.Atoi(m[2]); n != i {
			t.Fatalf("number %d received was %s: the counter must count up from 0 without gaps", i, m[2])
		}
		if l, _ := strconv.Atoi(m[1]); l != len(m[2]) {
			t.Fatalf("line %q: length does not match the text", m[0])
		}
	}
	// The server sends every 50 ms: 39 intervals take about 2 s. The
	// output is sampled every 50 ms, so allow a wide band, mostly upwards
	// for a loaded machine; too fast would mean the numbers are not paced.
	if span := lastAt.Sub(firstAt); span < 1200*time.Millisecond || span > 20*time.Second {
		t.Errorf("%d numbers took %v, want about %v (20 Hz)", wantNumbers-1, span, time.Duration(wantNumbers-1)*50*time.Millisecond)
	}
	opens := matches(out, ourMirrorOpenRE)
	for _, m := range opens {
		if n, _ := strconv.Atoi(m[1]); n < 10 || n > 1033 {
			t.Errorf("mirror lifetime %s outside 10..1033", m[1])
		}
	}
	c.stop()
	final := c.Output()
	if done, opened := len(matches(final, ourMirrorDoneRE)), len(matches(final, ourMirrorOpenRE)); opened < done {
		t.Errorf("%d lifetimes ended but only %d connections opened", done, opened)
	}
	t.Logf("lws-test-client: %d numbers (%v for %d), %d mirror connections opened, %d lifetimes completed",
		len(rx), lastAt.Sub(firstAt).Round(time.Millisecond), wantNumbers-1, len(opens), len(matches(out, ourMirrorDoneRE)))
}

// TestOurClientAgainstCServer runs our lws-test-client against Debian's C
// libwebsockets-test-server.
func TestOurClientAgainstCServer(t *testing.T) {
	runOurClient(t, startCTestServer(t))
}

// TestOurClientAgainstOurServer runs our lws-test-client against our
// lws-test-server.
func TestOurClientAgainstOurServer(t *testing.T) {
	_, port := startServer(t)
	runOurClient(t, port)
}

// TestOurClientUsage: a missing address is a usage error; a refused
// connection is reported and makes the exit status 1.
func TestOurClientUsage(t *testing.T) {
	c := start(t, app(t, "lws-test-client"))
	<-c.done
	if code := c.cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(c.Output(), "usage: lws-test-client") {
		t.Fatalf("no address: exit %d, output %q; want usage and exit 2", code, c.Output())
	}
	c = start(t, app(t, "lws-test-client"), "ws://127.0.0.1:1/", "-n")
	<-c.done
	if code := c.cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(c.Output(), "ERROR: dumb: connection error: lws: connect 127.0.0.1:1: connection refused") {
		t.Fatalf("refused: exit %d, output %q", code, c.Output())
	}
}
