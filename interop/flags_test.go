//go:build unix

package interop

import (
	"os"
	"regexp"
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

// TestAppFlagsDocumented: every option an app's usage lists is described
// in docs/test-apps.md, in the app's section (lws-test-server-extpoll's
// are lws-test-server's; -d and -h, common to all, in the common section).
func TestAppFlagsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/test-apps.md")
	if err != nil {
		t.Fatal(err)
	}
	section := func(title string) string {
		s := string(doc)
		i := strings.Index(s, "\n## "+title+"\n")
		if i < 0 {
			t.Fatalf("docs/test-apps.md has no section %q", title)
		}
		s = s[i+1:]
		if j := strings.Index(s[3:], "\n## "); j >= 0 {
			s = s[:j+3]
		}
		return s
	}
	common := section("Options common to every app")
	flagRE := regexp.MustCompile(`(?m)^  -([\w-]+)`)
	for app, title := range map[string]string{
		"lws-test-server": "lws-test-server", "lws-test-server-extpoll": "lws-test-server",
		"lws-test-echo": "lws-test-echo", "lws-test-fraggle": "lws-test-fraggle",
		"lws-test-client": "lws-test-client", "lws-test-ping": "lws-test-ping",
	} {
		text := section(title) + common
		code, out := runApp(t, app, "-h")
		flags := flagRE.FindAllStringSubmatch(out, -1)
		if code != 0 || len(flags) < 3 {
			t.Fatalf("%s -h: exit %d, %d options:\n%s", app, code, len(flags), out)
		}
		for _, f := range flags {
			if !strings.Contains(text, "`-"+f[1]) && !strings.Contains(text, "`--"+f[1]) {
				t.Errorf("%s: option -%s is not in docs/test-apps.md", app, f[1])
			}
		}
	}
}
