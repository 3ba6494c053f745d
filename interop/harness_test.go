//go:build unix

package interop

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binDir holds our test apps, built once per test binary.
var (
	binDir   string
	buildErr error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lws-interop-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	binDir = dir
	out, err := exec.Command("go", "build", "-race", "-o", dir+"/", "../cmd/...").CombinedOutput()
	if err != nil {
		buildErr = fmt.Errorf("building test apps: %v\n%s", err, out)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// app returns the path of one of our test apps.
func app(t *testing.T, name string) string {
	t.Helper()
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, name)
}

// requirePeer finds a peer program; missing, it skips, or fails under CI.
func requirePeer(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("peer %s is not installed (make test installs it: scripts/install-peers.sh)", name)
	}
	t.Skipf("peer %s is not installed; run scripts/install-peers.sh as root", name)
	return ""
}

// requirePython checks Debian's python3 has the websockets module.
func requirePython(t *testing.T) string {
	t.Helper()
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import websockets").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("python3-websockets is not installed: %v", err)
		}
		t.Skipf("python3-websockets is not installed: %v", err)
	}
	return py
}

// proc is a peer or app process whose output is collected.
type proc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

func (p *proc) Write(b []byte) (int, error) {
	p.mu.Lock()
	p.out.Write(b)
	p.mu.Unlock()
	return len(b), nil
}

// Output is everything printed so far (stdout and stderr together).
func (p *proc) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// start runs a program with output collected; it is stopped (by its pid)
// when the test ends.
func start(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(name, args...), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("output of %s %v:\n%s", filepath.Base(name), args, tail(p.Output(), 60))
		}
	})
	return p
}

// stop sends SIGINT, then SIGKILL if the process has not ended in 5s.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// waitFor checks cond against the output every 50ms until it holds, the
// process ends, or the timeout passes; it reports whether cond held.
// (Checking on a period rather than on every write keeps chatty peers,
// such as the C client at -d 15, from making the wait quadratic.)
func (p *proc) waitFor(timeout time.Duration, cond func(out string) bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if cond(p.Output()) {
			return true
		}
		select {
		case <-p.done:
			return cond(p.Output())
		case <-deadline.C:
			return cond(p.Output())
		case <-tick.C:
		}
	}
}

var servingRE = regexp.MustCompile(`serving https?://localhost:(\d+)/`)

// startServer runs our lws-test-server on a free port and returns the
// process and its port once it is serving.
func startServer(t *testing.T, args ...string) (*proc, int) {
	t.Helper()
	return startServerVia(t, nil, args...)
}

// startServerVia is startServer with the server run through a wrapper
// command (such as prlimit --nofile=64 --), which must exec it in place.
func startServerVia(t *testing.T, wrapper []string, args ...string) (*proc, int) {
	t.Helper()
	argv := append(append(wrapper[:len(wrapper):len(wrapper)], app(t, "lws-test-server"), "-p", "0"), args...)
	p := start(t, argv[0], argv[1:]...)
	if !p.waitFor(30*time.Second, servingRE.MatchString) {
		t.Fatalf("lws-test-server did not start serving:\n%s", p.Output())
	}
	port, _ := strconv.Atoi(servingRE.FindStringSubmatch(p.Output())[1])
	return p, port
}

func tail(s string, lines int) string {
	l := strings.Split(s, "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

// lines returns the lines of s matching re, with their submatches.
func matches(s string, re *regexp.Regexp) [][]string {
	var out [][]string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			out = append(out, m)
		}
	}
	return out
}
