//go:build unix

package interop

import (
	"regexp"
	"strconv"
	"testing"
	"time"
)

var (
	cRxRE         = regexp.MustCompile(`\] I: rx (\d+) '(\d+)'`)
	cMirrorOpenRE = regexp.MustCompile(`opened mirror connection with (\d+) lifetime`)
	cErrorRE      = regexp.MustCompile(`\] E: .*`)
	cMirrorDoneRE = regexp.MustCompile(`mirror: LWS_CALLBACK_CLOSED mirror_lifetime=0`)
)

// TestCClientAgainstOurServer runs Debian's C libwebsockets-test-client
// (4.1.6) against our lws-test-server: the dumb-increment numbers it prints
// at -d 15 must count up from 0, and its mirror connection must live out a
// lifetime, close and open again.
func TestCClientAgainstOurServer(t *testing.T) {
	client := requirePeer(t, "libwebsockets-test-client")
	_, port := startServer(t)
	c := start(t, client, "127.0.0.1", "--port="+strconv.Itoa(port), "-d", "15")

	// The 4.1.6 client gives each mirror connection a lifetime of 16384 to
	// 81919 sends, so a full cycle can take a while: wait for the second
	// open generously.
	ok := c.waitFor(4*time.Minute, func(out string) bool {
		return len(matches(out, cMirrorOpenRE)) >= 2 && len(matches(out, cRxRE)) >= 40
	})
	out := c.Output()
	if !ok {
		t.Fatalf("C client did not cycle its mirror connection and count: %d opens, %d closes at end of lifetime, %d numbers",
			len(matches(out, cMirrorOpenRE)), len(matches(out, cMirrorDoneRE)), len(matches(out, cRxRE)))
	}
	if n := len(matches(out, cMirrorDoneRE)); n < 1 {
		t.Errorf("mirror connection reopened without finishing its lifetime (closes seen: %d)", n)
	}
	if errs := matches(out, cErrorRE); len(errs) > 0 {
		t.Errorf("C client logged %d errors, first: %s", len(errs), errs[0][0])
	}

	// dumb-increment: "rx <len> '<n>'" with n counting 0, 1, 2, ... and len matching.
	rx := matches(out, cRxRE)
	for i, m := range rx {
		n, _ := strconv.Atoi(m[2])
		if n != i {
			t.Fatalf("number %d received was %s, want %d (counter must count up from 0 without gaps)", i, m[2], i)
		}
		if l, _ := strconv.Atoi(m[1]); l != len(m[2]) {
			t.Fatalf("rx line %q: length %d does not match the text", m[0], l)
		}
	}
	t.Logf("C client: %d numbers, %d mirror connections opened", len(rx), len(matches(out, cMirrorOpenRE)))
}
