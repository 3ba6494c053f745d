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

// startEchoServer runs our lws-test-echo in server mode on a free port.
func startEchoServer(t *testing.T) int {
	t.Helper()
	p := start(t, app(t, "lws-test-echo"), "-p", "0")
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
	Error     string `json:"error"`
	CloseCode int    `json:"close_code"`
}

// checkEchoReport checks a peer saw every message come back whole with
// its type.
func checkEchoReport(t *testing.T, peer string, out []byte) {
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
}

// TestEchoServerWithPythonClient: lws-test-echo answers Python's
// websockets client for text and binary messages of every size.
func TestEchoServerWithPythonClient(t *testing.T) {
	py := requirePython(t)
	port := startEchoServer(t)
	url := fmt.Sprintf("ws://127.0.0.1:%d/", port)
	out, err := exec.Command(py, append([]string{"testdata/echo_peer.py", "client", url}, echoSizes...)...).Output()
	if err != nil {
		t.Fatalf("echo_peer.py client: %v\n%s%s", err, out, stderrOf(err))
	}
	checkEchoReport(t, "python websockets", out)
}

// TestEchoServerWithNodeClient: lws-test-echo answers Node's ws client
// for text and binary messages of every size.
func TestEchoServerWithNodeClient(t *testing.T) {
	node := requireNodeWS(t)
	port := startEchoServer(t)
	url := fmt.Sprintf("ws://127.0.0.1:%d/", port)
	cmd := exec.Command(node, append([]string{"testdata/echo_client.js", url}, echoSizes...)...)
	cmd.Env = append(os.Environ(), "NODE_PATH=/usr/share/nodejs")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("echo_client.js: %v\n%s%s", err, out, stderrOf(err))
	}
	checkEchoReport(t, "node ws", out)
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
// order, and it closes cleanly after -n messages.
func TestEchoClientWithPythonServer(t *testing.T) {
	py := requirePython(t)
	srv := start(t, py, "testdata/echo_peer.py", "server")
	if !srv.waitFor(30*time.Second, pyPortRE.MatchString) {
		t.Fatalf("python echo server did not start:\n%s", srv.Output())
	}
	port := pyPortRE.FindStringSubmatch(srv.Output())[1]
	const count = 10
	c := start(t, app(t, "lws-test-echo"), "-c", "127.0.0.1", "-p", port, "-r", "20", "-n", strconv.Itoa(count))
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
}
