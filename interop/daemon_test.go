//go:build unix

package interop

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// startDaemonServer runs `lws-test-server -D` with its lock and log in dir
// and waits for the starting process to exit; it returns the exit code and
// what that process printed.
func startDaemonServer(t *testing.T, dir string) (int, string) {
	t.Helper()
	cmd := exec.Command(app(t, "lws-test-server"), "-D", "-p", "0",
		"-lock-file", filepath.Join(dir, "lock"), "-log-file", filepath.Join(dir, "log"))
	// A -race build sleeps 1s at exit unless told not to.
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("lws-test-server -D: the starting process did not exit")
	}
	t.Logf("lws-test-server -D: exit %d after %v %s", cmd.ProcessState.ExitCode(), time.Since(start).Round(time.Millisecond), strings.TrimSpace(out.String()))
	return cmd.ProcessState.ExitCode(), out.String()
}

// daemonPID reads the pid in the lock and makes sure the daemon is ended
// when the test ends (it was started by this test).
func daemonPID(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "lock"))
	if err != nil {
		t.Fatalf("reading the lock: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("lock holds %q", b)
	}
	t.Cleanup(func() {
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); processAlive(pid) && strings.TrimSpace(string(comm)) == "lws-test-server" {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	return pid
}

// processAlive reports whether pid exists and is not a zombie.
func processAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && err != syscall.EPERM {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || (b[i+2] != 'Z' && b[i+2] != 'X')
}

// TestServerDaemon starts `lws-test-server -D` as the seed asks: the
// starting process exits 0 (which it does only once the daemon reported
// ready, within 2 s), the lock holds the pid of a live process whose fds
// 0-2 are /dev/null and whose session id is its pid, and which serves
// WebSocket clients and logs to its log file; a second -D start fails
// naming the pid; SIGTERM closes the clients with 1001, stops the daemon
// and removes the lock.
func TestServerDaemon(t *testing.T) {
	dir := t.TempDir()
	if code, out := startDaemonServer(t, dir); code != 0 {
		t.Fatalf("lws-test-server -D exited %d: %s", code, out)
	}
	pid := daemonPID(t, dir)
	if !processAlive(pid) {
		t.Fatalf("pid %d in the lock is not running", pid)
	}
	if fi, err := os.Stat(filepath.Join(dir, "lock")); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("lock mode %v (%v), want 0640", fi.Mode().Perm(), err)
	}
	if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(comm)) != "lws-test-server" {
		t.Fatalf("pid %d is %q", pid, comm)
	}
	for fd := range 3 {
		if target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, fd)); err != nil || target != "/dev/null" {
			t.Errorf("fd %d of the daemon points at %q (%v), want /dev/null", fd, target, err)
		}
	}
	if sid, err := unix.Getsid(pid); err != nil || sid != pid {
		t.Errorf("session id of the daemon is %d (%v), want its pid %d", sid, err, pid)
	}

	// It logs to its file, and serves.
	logPath := filepath.Join(dir, "log")
	logText := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	if !waitUntil(10*time.Second, func() bool { return servingRE.MatchString(logText()) }) {
		t.Fatalf("daemon log has no serving line:\n%s", logText())
	}
	port, _ := strconv.Atoi(servingRE.FindStringSubmatch(logText())[1])
	h, err := newDumbHolder(port)
	if err != nil {
		t.Fatalf("WebSocket client to the daemon: %v", err)
	}
	defer h.stop()
	if !waitUntil(10*time.Second, func() bool { n, err := h.received(); return n >= 3 || err != nil }) {
		t.Fatal("no numbers from the daemon")
	}
	if n, err := h.received(); err != nil {
		t.Fatalf("after %d numbers: %v", n, err)
	}

	// A second start is refused with the running pid.
	code, out := startDaemonServer(t, dir)
	if code == 0 || !strings.Contains(out, fmt.Sprintf("already running as pid %d", pid)) {
		t.Fatalf("second -D start: exit %d, output %q; want a failure naming pid %d", code, out, pid)
	}

	// SIGTERM: the client gets close 1001, the daemon ends, the lock goes.
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-h.done
	h.ws.Close() // the close frame was read: end our side
	if n, err := h.received(); !strings.Contains(fmt.Sprint(err), "close 1001") {
		t.Errorf("client after SIGTERM (%d numbers): %v; want close 1001", n, err)
	}
	if !waitUntil(10*time.Second, func() bool { return !processAlive(pid) }) {
		t.Fatalf("daemon %d still running after SIGTERM", pid)
	}
	if _, err := os.Stat(filepath.Join(dir, "lock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock still there after SIGTERM: %v", err)
	}
	if !strings.Contains(logText(), "lws-test-server: stopped") {
		t.Errorf("daemon log does not record the stop:\n%s", logText())
	}
}

// TestServerDaemonStaleLock: a lock naming a dead process does not prevent
// a -D start.
func TestServerDaemonStaleLock(t *testing.T) {
	dir := t.TempDir()
	dead := exec.Command(app(t, "lws-test-server"), "-h")
	dead.Run()
	os.WriteFile(filepath.Join(dir, "lock"), []byte(strconv.Itoa(dead.Process.Pid)+"\n"), 0o640)
	if code, out := startDaemonServer(t, dir); code != 0 {
		t.Fatalf("-D start over a stale lock (pid %d) exited %d: %s", dead.Process.Pid, code, out)
	}
	pid := daemonPID(t, dir)
	if pid == dead.Process.Pid || !processAlive(pid) {
		t.Fatalf("lock names %d after the start", pid)
	}
	syscall.Kill(pid, syscall.SIGTERM)
	if !waitUntil(10*time.Second, func() bool { return !processAlive(pid) }) {
		t.Fatalf("daemon %d still running after SIGTERM", pid)
	}
}
