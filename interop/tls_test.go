//go:build unix

package interop

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/lws-go/lws/tlsconn"
)

// testCertFiles writes a fresh self-signed certificate for localhost,
// 127.0.0.1 and ::1 and its key as PEM files.
func testCertFiles(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	_, certPEM, keyPEM, err := tlsconn.SelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestTLSOurClientOurServer: our lws-test-client --ssl -k against our
// lws-test-server -s (self-signed certificate made at start).
func TestTLSOurClientOurServer(t *testing.T) {
	_, port := startServer(t, "-s")
	c := start(t, app(t, "lws-test-client"), "127.0.0.1", "--port", strconv.Itoa(port), "--ssl", "-k")
	expectNumbers(t, "lws-test-client --ssl -k", c, func(out string) [][]string { return matches(out, ourRxRE) }, ourErrorRE)
	// Without -k the self-signed certificate is refused.
	c = start(t, app(t, "lws-test-client"), "127.0.0.1", "--port", strconv.Itoa(port), "--ssl", "-n")
	if !c.waitFor(30*time.Second, func(out string) bool { return len(matches(out, ourErrorRE)) > 0 }) {
		t.Fatalf("without -k the client did not refuse the certificate:\n%s", c.Output())
	}
	t.Logf("without -k: %s", matches(c.Output(), ourErrorRE)[0][0])
}

// TestTLSCClientOurServer: Debian's C libwebsockets-test-client --ssl -k
// against our lws-test-server -s.
func TestTLSCClientOurServer(t *testing.T) {
	client := requirePeer(t, "libwebsockets-test-client")
	_, port := startServer(t, "-s")
	c := start(t, client, "127.0.0.1", "--port="+strconv.Itoa(port), "--ssl", "-k", "-d", "15")
	expectNumbers(t, "C client --ssl -k", c, func(out string) [][]string { return matches(out, cRxRE) }, cErrorRE)
}

// TestTLSOurClientCServer: our lws-test-client --ssl -k against Debian's C
// libwebsockets-test-server --ssl. (Its packaged certificate has a key
// OpenSSL 3 refuses as too small, so it is given ours with -C and -K.)
func TestTLSOurClientCServer(t *testing.T) {
	bin := requirePeer(t, "libwebsockets-test-server")
	certFile, keyFile := testCertFiles(t)
	port := freePort(t)
	srv := start(t, bin, "--port="+strconv.Itoa(port), "--ssl", "-C", certFile, "-K", keyFile)
	if !waitUntil(20*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	}) {
		t.Fatalf("C server did not start:\n%s", srv.Output())
	}
	c := start(t, app(t, "lws-test-client"), "127.0.0.1", "--port", strconv.Itoa(port), "--ssl", "-k")
	expectNumbers(t, "lws-test-client --ssl -k vs C server", c, func(out string) [][]string { return matches(out, ourRxRE) }, ourErrorRE)
}

// TestTLSPythonClient: Python's websockets over wss:// against our
// lws-test-server -s with a certificate from files, trusting only that
// certificate: TLS 1.3 with ALPN http/1.1, the counter, and a compressed
// mirror message.
func TestTLSPythonClient(t *testing.T) {
	py := requirePython(t)
	certFile, keyFile := testCertFiles(t)
	_, port := startServer(t, "-s", "--cert", certFile, "--key", keyFile)
	out, err := exec.Command(py, "testdata/tls_peer.py", fmt.Sprintf("wss://localhost:%d/", port), certFile, "10").Output()
	if err != nil {
		t.Fatalf("tls_peer.py: %v\n%s%s", err, out, stderrOf(err))
	}
	var res struct {
		Version, ALPN, Error string
		Numbers              []string
		MirrorOK             bool   `json:"mirror_ok"`
		MirrorExtension      string `json:"mirror_extension"`
	}
	if err := json.Unmarshal(out, &res); err != nil || res.Error != "" {
		t.Fatalf("tls_peer.py printed %s (%v)", out, err)
	}
	if res.Version != "TLSv1.3" || res.ALPN != "http/1.1" {
		t.Errorf("TLS %q ALPN %q, want TLSv1.3 and http/1.1", res.Version, res.ALPN)
	}
	for i, n := range res.Numbers {
		if n != strconv.Itoa(i) {
			t.Fatalf("numbers %v do not count from 0", res.Numbers)
		}
	}
	if len(res.Numbers) != 10 || !res.MirrorOK || res.MirrorExtension == "" {
		t.Fatalf("numbers %v, mirror echoed %v, extension %q", res.Numbers, res.MirrorOK, res.MirrorExtension)
	}
	t.Logf("python over wss: %s, ALPN %s, 10 numbers, mirror with %q", res.Version, res.ALPN, res.MirrorExtension)
}

// expectNumbers waits for 20 dumb-increment numbers counting from 0 in a
// client's output, with no error line.
func expectNumbers(t *testing.T, name string, c *proc, numbers func(string) [][]string, errRE *regexp.Regexp) {
	t.Helper()
	const want = 20
	if !c.waitFor(60*time.Second, func(out string) bool { return len(numbers(out)) >= want }) {
		t.Fatalf("%s: %d numbers after 60s:\n%s", name, len(numbers(c.Output())), tail(c.Output(), 30))
	}
	out := c.Output()
	for i, m := range numbers(out) {
		if m[2] != strconv.Itoa(i) {
			t.Fatalf("%s: number %d is %s", name, i, m[2])
		}
	}
	if errs := matches(out, errRE); len(errs) > 0 {
		t.Errorf("%s logged %d errors, first: %s", name, len(errs), errs[0][0])
	}
	t.Logf("%s: %d numbers over TLS", name, len(numbers(out)))
}
