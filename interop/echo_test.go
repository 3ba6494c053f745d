//go:build unix

package interop

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// echoSizes are the message sizes of TEST-APPS' echo checks: empty, the
// largest 7-bit length, the smallest 16-bit one, the largest 16-bit one,
// the smallest 64-bit one, and 4 MiB.
var echoSizes = []string{"0", "125", "126", "65535", "65536", "4194304"}

var echoServingRE = regexp.MustCompile(`serving ws://localhost:(\d+)/`)

// startEchoServer runs our lws-test-echo in server mode on a free port,
// with extra flags.
func startEchoServer(t *testing.T, flags ...string) int {
	t.Helper()
	p := start(t, app(t, "lws-test-echo"), append([]string{"-p", "0"}, flags...)...)
	if !p.waitFor(30*time.Second, echoServingRE.MatchString) {
		t.Fatalf("lws-test-echo did not start serving:\n%s", p.Output())
	}
	port, _ := strconv.Atoi(echoServingRE.FindStringSubmatch(p.Output())[1])
	return port
}

type echoReport struct {
	Results []struct {
		Size     int  `json:"size"`
		Binary   bool `json:"binary"`
		SameType bool `json:"same_type"`
		Equal    bool `json:"equal"`
		GotLen   int  `json:"got_len"`
	} `json:"results"`
	Extension string `json:"extension"`
	Error     string `json:"error"`
	CloseCode int    `json:"close_code"`
}

// checkEchoReport checks a peer saw every message come back whole with
// its type, under the extension answer wantExt.
func checkEchoReport(t *testing.T, peer string, out []byte, wantExt string) {
	t.Helper()
	var rep echoReport
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("%s printed %q: %v", peer, out, err)
	}
	if rep.Error != "" {
		t.Fatalf("%s: %s", peer, rep.Error)
	}
	if want := 2 * len(echoSizes); len(rep.Results) != want {
		t.Fatalf("%s: %d echoes, want %d", peer, len(rep.Results), want)
	}
	for _, r := range rep.Results {
		kind := map[bool]string{false: "text", true: "binary"}[r.Binary]
		if !r.SameType || !r.Equal {
			t.Errorf("%s: %s message of %d bytes came back wrong: same type %v, equal %v, %d bytes",
				peer, kind, r.Size, r.SameType, r.Equal, r.GotLen)
		}
	}
	if rep.CloseCode != 1000 {
		t.Errorf("%s: close code %d, want 1000 echoed", peer, rep.CloseCode)
	}
	if rep.Extension != wantExt {
		t.Errorf("%s: extension answer %q, want %q", peer, rep.Extension, wantExt)
	}
}

// echoServerFlags are lws-test-echo's permessage-deflate settings, with
// its answer to the offer of Python's and Node's clients (both
// "permessage-deflate; client_max_window_bits").
var echoServerFlags = []struct {
	flags  []string
	answer string
}{
	{nil, "permessage-deflate"}, // on by default, context takeover both ways
	{[]string{"--no-context-takeover"}, "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
	{[]string{"--no-deflate"}, ""},
}

// TestEchoServerWithPythonClient: lws-test-echo answers Python's
// websockets client for text and binary messages of every size, with each
// of its permessage-deflate settings.
func TestEchoServerWithPythonClient(t *testing.T) {
	py := requirePython(t)
	for _, tc := range echoServerFlags {
		t.Run(fmt.Sprint(tc.flags), func(t *testing.T) {
			port := startEchoServer(t, tc.flags...)
			url := fmt.Sprintf("ws://127.0.0.1:%d/", port)
			out, err := exec.Command(py, append([]string{"testdata/echo_peer.py", "client", url}, echoSizes...)...).Output()
			if err != nil {
				t.Fatalf("echo_peer.py client: %v\n%s%s", err, out, stderrOf(err))
			}
			checkEchoReport(t, "python websockets", out, tc.answer)
		})
	}
}

// TestEchoServerWithNodeClient: lws-test-echo answers Node's ws client
// for text and binary messages of every size, with each of its
// permessage-deflate settings.
func TestEchoServerWithNodeClient(t *testing.T) {
	node := requireNodeWS(t)
	for _, tc := range echoServerFlags {
		t.Run(fmt.Sprint(tc.flags), func(t *testing.T) {
			port := startEchoServer(t, tc.flags...)
			url := fmt.Sprintf("ws://127.0.0.1:%d/", port)
			cmd := exec.Command(node, append([]string{"testdata/echo_client.js", url}, echoSizes...)...)
			cmd.Env = append(os.Environ(), "NODE_PATH=/usr/share/nodejs")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("echo_client.js: %v\n%s%s", err, out, stderrOf(err))
			}
			checkEchoReport(t, "node ws", out, tc.answer)
		})
	}
}

// requireNodeWS finds node with Debian's ws module.
func requireNodeWS(t *testing.T) string {
	t.Helper()
	node := requirePeer(t, "node")
	cmd := exec.Command(node, "-e", "require('ws')")
	cmd.Env = append(os.Environ(), "NODE_PATH=/usr/share/nodejs")
	if err := cmd.Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node-ws is not installed: %v", err)
		}
		t.Skipf("node-ws is not installed: %v", err)
	}
	return node
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

var (
	echoTxRE = regexp.MustCompile(`^Client TX: hello from lws-test-echo client pid (\d+) index (\d+)$`)
	echoRxRE = regexp.MustCompile(`^Client RX: hello from lws-test-echo client pid (\d+) index (\d+)$`)
	pyPortRE = regexp.MustCompile(`listening (\d+)`)
)

// TestEchoClientWithPythonServer: lws-test-echo in client mode talks to a
// Python websockets echo server: every message it sends comes back, in
// order, and it closes cleanly after -n messages. permessage-deflate is
// negotiated by default (Python's server limits both windows to 12 bits),
// and not with --no-deflate.
func TestEchoClientWithPythonServer(t *testing.T) {
	py := requirePython(t)
	srv := start(t, py, "testdata/echo_peer.py", "server")
	if !srv.waitFor(30*time.Second, pyPortRE.MatchString) {
		t.Fatalf("python echo server did not start:\n%s", srv.Output())
	}
	port := pyPortRE.FindStringSubmatch(srv.Output())[1]
	for _, tc := range []struct {
		flags  []string
		agreed string // the "Client negotiated" line, "" for none
	}{
		{nil, "Client negotiated permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"},
		{[]string{"--no-context-takeover"}, "Client negotiated permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=12"},
		{[]string{"--no-deflate"}, ""},
	} {
		t.Run(fmt.Sprint(tc.flags), func(t *testing.T) {
			out := runEchoClient(t, port, tc.flags...)
			var agreed string
			if m := echoAgreedRE.FindString(out); m != "" {
				agreed = m
			}
			if agreed != tc.agreed {
				t.Errorf("negotiation %q, want %q", agreed, tc.agreed)
			}
		})
	}
}

var echoAgreedRE = regexp.MustCompile(`(?m)^Client negotiated .*$`)

// runEchoClient runs lws-test-echo -c against an echo server on port, with
// extra flags, and checks its exchange; it returns the output.
func runEchoClient(t *testing.T, port string, flags ...string) string {
	t.Helper()
	const count = 10
	c := start(t, app(t, "lws-test-echo"), append([]string{"-c", "127.0.0.1", "-p", port, "-r", "20", "-n", strconv.Itoa(count)}, flags...)...)
	select {
	case <-c.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("lws-test-echo client did not finish:\n%s", c.Output())
	}
	out := c.Output()
	if code := c.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("lws-test-echo client exited with %d:\n%s", code, out)
	}
	tx, rx := matches(out, echoTxRE), matches(out, echoRxRE)
	if len(tx) != count || len(rx) != count {
		t.Fatalf("sent %d and received %d messages, want %d each:\n%s", len(tx), len(rx), count, out)
	}
	for i := range rx {
		if rx[i][1] != tx[i][1] || rx[i][2] != strconv.Itoa(i) {
			t.Fatalf("echo %d is %q, want the message sent %q", i, rx[i][0], tx[i][0])
		}
	}
	if !strings.Contains(out, `Client closed: 1000 "done"`) {
		t.Errorf("no clean close:\n%s", out)
	}
	return out
}

// TestEchoServerDeflateOffers: lws-test-echo as it starts, the testee of
// Autobahn|Testsuite's cases 12.* and 13.*, takes each kind of offer those
// cases make (here from Python's websockets client): none of the
// parameters, server_no_context_takeover, server_max_window_bits 8 and 15
// alone and with it, client_no_context_takeover, a client_max_window_bits
// value; and echoes compressed text and binary messages of the cases'
// sizes (16 bytes to 128 KiB).
func TestEchoServerDeflateOffers(t *testing.T) {
	py := requirePython(t)
	port := startEchoServer(t)
	url := fmt.Sprintf("ws://127.0.0.1:%d/", port)
	sizes := []string{"16", "64", "256", "1024", "4096", "8192", "16384", "32768", "65536", "131072"}
	for _, tc := range []struct {
		settings []string
		answer   string
	}{
		{nil, "permessage-deflate"},
		{[]string{"server_no_context_takeover=1"}, "permessage-deflate; server_no_context_takeover"},
		{[]string{"server_max_window_bits=8"}, "permessage-deflate; server_max_window_bits=8"},
		{[]string{"server_max_window_bits=15"}, "permessage-deflate; server_max_window_bits=15"},
		{[]string{"server_no_context_takeover=1", "server_max_window_bits=8"}, "permessage-deflate; server_no_context_takeover; server_max_window_bits=8"},
		{[]string{"server_no_context_takeover=1", "server_max_window_bits=15"}, "permessage-deflate; server_no_context_takeover; server_max_window_bits=15"},
		{[]string{"client_no_context_takeover=1"}, "permessage-deflate; client_no_context_takeover"},
		{[]string{"client_max_window_bits=9"}, "permessage-deflate; client_max_window_bits=9"},
		{[]string{"client_max_window_bits=0"}, "permessage-deflate"},
	} {
		t.Run(strings.Join(tc.settings, " "), func(t *testing.T) {
			args := append(append([]string{"testdata/deflate_peer.py", "client", url}, tc.settings...), sizes...)
			out, err := exec.Command(py, args...).Output()
			if err != nil {
				t.Fatalf("deflate_peer.py: %v\n%s%s", err, out, stderrOf(err))
			}
			checkDeflateReport(t, "python websockets", out, len(sizes), tc.answer)
		})
	}
}

// TestEchoClientDeflateAnswers: lws-test-echo -c, as it starts, takes the
// answers Autobahn|Testsuite's cases 13.3 to 13.6 give a client (here from
// Python's websockets server): its window limited to 8 or 15 bits, with
// and without client_no_context_takeover; the exchange completes.
func TestEchoClientDeflateAnswers(t *testing.T) {
	py := requirePython(t)
	for _, tc := range []struct {
		settings []string
		agreed   string
	}{
		{[]string{"client_max_window_bits=8"}, "Client negotiated permessage-deflate; client_max_window_bits=8"},
		{[]string{"client_max_window_bits=15"}, "Client negotiated permessage-deflate; client_max_window_bits=15"},
		{[]string{"client_no_context_takeover=1", "client_max_window_bits=8"}, "Client negotiated permessage-deflate; client_no_context_takeover; client_max_window_bits=8"},
		{[]string{"client_no_context_takeover=1", "client_max_window_bits=15"}, "Client negotiated permessage-deflate; client_no_context_takeover; client_max_window_bits=15"},
	} {
		t.Run(strings.Join(tc.settings, " "), func(t *testing.T) {
			srv := start(t, py, append([]string{"testdata/deflate_peer.py", "server"}, tc.settings...)...)
			if !srv.waitFor(30*time.Second, pyPortRE.MatchString) {
				t.Fatalf("python server did not start:\n%s", srv.Output())
			}
			out := runEchoClient(t, pyPortRE.FindStringSubmatch(srv.Output())[1])
			if got := echoAgreedRE.FindString(out); got != tc.agreed {
				t.Errorf("negotiation %q, want %q", got, tc.agreed)
			}
		})
	}
}
