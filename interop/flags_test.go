package interop

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestAppFlagsAfterArguments: every test app takes its options after its
// positional arguments as well as before, as the C apps do (GNU getopt):
// -h anywhere prints the usage and exits 0, an unknown option anywhere
// exits 2 naming it, and a server refuses a stray argument. Each case
// runs the real binary.
func TestAppFlagsAfterArguments(t *testing.T) {
	for _, tc := range []struct {
		app  string
		args []string // the app is run with args, then "-h", then with args and "--bogus"
	}{
		{"lws-test-server", []string{"-p", "0", "extra"}},
		{"lws-test-server-extpoll", []string{"-p", "0", "extra"}},
		{"lws-test-echo", []string{"-p", "0", "extra"}},
		{"lws-test-fraggle", []string{"-c", "127.0.0.1", "-p", "1"}},
		{"lws-test-client", []string{"127.0.0.1", "--port", "1"}},
		{"lws-test-ping", []string{"127.0.0.1", "--port", "1"}},
	} {
		t.Run(tc.app, func(t *testing.T) {
			code, out := runApp(t, tc.app, append(tc.args, "-h")...)
			if code != 0 || !strings.Contains(out, "usage: "+tc.app) {
				t.Errorf("%v -h: exit %d, output:\n%s", tc.args, code, out)
			}
			code, out = runApp(t, tc.app, append(tc.args, "--bogus")...)
			if code != 2 || !strings.Contains(out, "flag provided but not defined: -bogus") {
				t.Errorf("%v --bogus: exit %d, output:\n%s", tc.args, code, out)
			}
			if tc.args[len(tc.args)-1] == "extra" {
				code, out = runApp(t, tc.app, tc.args...)
				if code != 2 || !strings.Contains(out, `unexpected argument "extra"`) {
					t.Errorf("%v: exit %d, output:\n%s", tc.args, code, out)
				}
			}
		})
	}
}

// runApp runs one of our apps to its end (within 30s) and returns its
// exit code and output.
func runApp(t *testing.T, name string, args ...string) (int, string) {
	t.Helper()
	p := start(t, app(t, name), args...)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s %q still running after 30s:\n%s", name, args, p.Output())
	}
	return p.cmd.ProcessState.ExitCode(), p.Output()
}

// TestFraggleClientCStyle: lws-test-fraggle's client run the way the C
// app is ("-c 127.0.0.1 -p 7681", the options after the address) checks
// messages from our fraggle server.
func TestFraggleClientCStyle(t *testing.T) {
	_, port := startFraggleServer(t)
	code, out := runApp(t, "lws-test-fraggle", "-c", "127.0.0.1", "-p", strconv.Itoa(port), "-n", "5")
	if code != 0 {
		t.Fatalf("client exit %d:\n%s", code, out)
	}
	if eom := matches(out, fraggleEOMRE); len(eom) != 5 || fraggleErrorRE.MatchString(out) {
		t.Fatalf("%d messages checked, want 5:\n%s", len(eom), out)
	}
}
