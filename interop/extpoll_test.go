//go:build unix

package interop

import (
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// startExtpollServer runs our lws-test-server-extpoll on a free port and
// returns the port once it is serving.
func startExtpollServer(t *testing.T) (*proc, int) {
	t.Helper()
	p := start(t, app(t, "lws-test-server-extpoll"), "-p", "0")
	if !p.waitFor(30*time.Second, servingRE.MatchString) {
		t.Fatalf("lws-test-server-extpoll did not start serving:\n%s", p.Output())
	}
	port, _ := strconv.Atoi(servingRE.FindStringSubmatch(p.Output())[1])
	return p, port
}

var cMirrorClosedRE = regexp.MustCompile(`mirror: LWS_CALLBACK_CLOSED mirror_lifetime=(\d+)`)

// TestCClientAgainstExtpollServer: Debian's C libwebsockets-test-client
// works against lws-test-server-extpoll, served from the app's own poll(2)
// loop: the dumb-increment numbers it prints at -d 15 count up from 0, its
// mirror connection opens and is never cut short, and it logs no error.
// (A whole mirror lifetime of the C client is 16384 to 81919 sends, minutes
// under -race; TestCClientAgainstOurServer waits for one against
// lws-test-server, and our lws-test-client completes many against this
// server in TestOurClientAgainstExtpollServer.)
func TestCClientAgainstExtpollServer(t *testing.T) {
	const wantNumbers = 40
	client := requirePeer(t, "libwebsockets-test-client")
	_, port := startExtpollServer(t)
	c := start(t, client, "127.0.0.1", "--port="+strconv.Itoa(port), "-d", "15")
	ok := c.waitFor(2*time.Minute, func(out string) bool {
		return len(matches(out, cMirrorOpenRE)) >= 1 && len(matches(out, cRxRE)) >= wantNumbers
	})
	out := c.Output() // before stopping it: on SIGINT it closes all and logs "E: Exiting"
	c.stop()
	rx := matches(out, cRxRE)
	if !ok {
		t.Fatalf("C client: %d mirror opens, %d numbers after 2 minutes", len(matches(out, cMirrorOpenRE)), len(rx))
	}
	for i, m := range rx {
		if n, _ := strconv.Atoi(m[2]); n != i {
			t.Fatalf("number %d received was %s, want %d (counting up from 0 without gaps)", i, m[2], i)
		}
	}
	for _, m := range matches(out, cMirrorClosedRE) {
		if m[1] != "0" {
			t.Errorf("mirror connection closed with %s sends of its lifetime left", m[1])
		}
	}
	if errs := matches(out, cErrorRE); len(errs) > 0 {
		t.Errorf("C client logged %d errors, first: %s", len(errs), errs[0][0])
	}
	t.Logf("C client: %d numbers, %d mirror connections opened, %d lifetimes completed", len(rx), len(matches(out, cMirrorOpenRE)), len(matches(out, cMirrorDoneRE)))
}

// TestOurClientAgainstExtpollServer: our lws-test-client works against
// lws-test-server-extpoll as against lws-test-server (same checks), and
// the test page is served over HTTP from the same poll loop.
func TestOurClientAgainstExtpollServer(t *testing.T) {
	srv, port := startExtpollServer(t)
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") == "" {
		t.Fatalf("GET /: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	runOurClient(t, port)
	// The app stops cleanly on SIGINT: the signal wakes its poll through
	// the library's wake-up fd.
	srv.stop()
	if code := srv.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("lws-test-server-extpoll exited with %d after SIGINT", code)
	}
}
