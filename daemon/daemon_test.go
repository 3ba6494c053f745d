//go:build unix

package daemon

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The test binary doubles as the program being daemonized: with
// LWS_DAEMON_TEST_MODE set, TestMain runs helperMain instead of the tests,
// in the starting process and again in the re-executed daemon.
const (
	envMode   = "LWS_DAEMON_TEST_MODE"
	envLock   = "LWS_DAEMON_TEST_LOCK"
	envStatus = "LWS_DAEMON_TEST_STATUS"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(envMode); mode != "" {
		helperMain(mode)
		return
	}
	os.Exit(m.Run())
}

// helperMain is a small daemon. Modes: "ok" reports ready and runs until
// SIGTERM; "fail" reports a failure; "exit" dies without a report;
// "silent" never reports.
func helperMain(mode string) {
	d, err := Daemonize(os.Getenv(envLock))
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	status := os.Getenv(envStatus)
	switch mode {
	case "fail":
		d.Fail(errors.New("cannot listen: address in use"))
		os.Exit(1)
	case "exit":
		os.Exit(3)
	case "silent":
		select {}
	}
	os.WriteFile(status, []byte("serving\n"), 0o600)
	d.Ready()
	<-d.Context().Done()
	err = d.Close()
	os.WriteFile(status, []byte(fmt.Sprintf("stopped %v\n", err)), 0o600)
	os.Exit(0)
}

// runHelper starts the helper in mode with the lock at lock and waits for
// the starting process to exit; it returns the exit code and stderr.
func runHelper(t *testing.T, mode, lock, status string) (int, string, time.Duration) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	// A -race binary sleeps 1s at exit by default (GORACE atexit_sleep_ms):
	// not wanted in the starting process nor in the daemon.
	cmd.Env = append(os.Environ(), envMode+"="+mode, envLock+"="+lock, envStatus+"="+status, "GORACE=atexit_sleep_ms=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	// The starting process inherits a pipe, as from a caller reading its
	// output: the daemon must not keep it open.
	inheritedR, inheritedW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer inheritedR.Close()
	cmd.ExtraFiles = []*os.File{nil, nil, inheritedW} // fd 5, clear of the readiness pipe's fd 3
	start := time.Now()
	err = cmd.Start()
	inheritedW.Close()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("the starting process did not exit")
	}
	took := time.Since(start)
	inheritedR.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := inheritedR.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("a pipe the starting process inherited is still open after it exited (read %d, %v): the daemon kept it", n, err)
	}
	return cmd.ProcessState.ExitCode(), stderr.String(), took
}

// stopDaemon sends SIGTERM to a daemon this test started (its pid is in
// our lock) unless it has gone already, and waits until it has gone.
func stopDaemon(t *testing.T, pid int) {
	t.Helper()
	if !alive(pid) {
		return
	}
	unix.Kill(pid, unix.SIGTERM)
	if !waitCond(10*time.Second, func() bool { return !alive(pid) }) {
		unix.Kill(pid, unix.SIGKILL)
		t.Errorf("daemon %d did not stop at SIGTERM", pid)
	}
}

func waitCond(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// tempDir is a short temp dir removed at the end of the test.
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "lwsd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// TestDaemonize starts the helper as a daemon and checks what the seed
// asks: the starting process exits 0, the lock (mode 0640) holds the pid
// of a live process that leads its own session, has fds 0-2 on /dev/null,
// runs in / with umask 027; a second start fails naming that pid; SIGTERM
// stops it cleanly and removes the lock.
func TestDaemonize(t *testing.T) {
	dir := tempDir(t)
	lock, status := filepath.Join(dir, "lock"), filepath.Join(dir, "status")
	code, stderr, took := runHelper(t, "ok", lock, status)
	if code != 0 {
		t.Fatalf("starting process exited %d: %s", code, stderr)
	}
	pid, err := readLock(lock)
	if err != nil {
		t.Fatalf("lock after start: %v", err)
	}
	t.Cleanup(func() { stopDaemon(t, pid) })
	t.Logf("daemon pid %d ready; the starting process exited 0 after %v", pid, took)

	if fi, err := os.Stat(lock); err != nil || fi.Mode().Perm() != LockMode {
		t.Errorf("lock mode %v, %v; want %v", fi.Mode().Perm(), err, os.FileMode(LockMode))
	}
	if !alive(pid) {
		t.Fatalf("pid %d in the lock is not alive", pid)
	}
	if b, _ := os.ReadFile(status); string(b) != "serving\n" {
		t.Errorf("daemon status %q", b)
	}
	checkDaemonProcess(t, pid)

	// A second start is refused with the running pid.
	code, stderr, _ = runHelper(t, "ok", lock, status)
	if code == 0 || !strings.Contains(stderr, fmt.Sprintf("already running as pid %d", pid)) {
		t.Fatalf("second start: exit %d, stderr %q; want failure naming pid %d", code, stderr, pid)
	}
	if p, _ := readLock(lock); p != pid {
		t.Fatalf("the refused start changed the lock to %d", p)
	}

	// SIGTERM: the daemon stops by itself (it reports so) and removes the lock.
	unix.Kill(pid, unix.SIGTERM)
	if !waitCond(10*time.Second, func() bool { return !alive(pid) }) {
		t.Fatalf("daemon %d still running after SIGTERM", pid)
	}
	if b, _ := os.ReadFile(status); string(b) != "stopped <nil>\n" {
		t.Errorf("daemon status after SIGTERM %q, want a clean stop", b)
	}
	if _, err := os.Stat(lock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock still there after SIGTERM: %v", err)
	}
}

// checkDaemonProcess checks the state of a daemon process through /proc.
func checkDaemonProcess(t *testing.T, pid int) {
	t.Helper()
	if sid, err := unix.Getsid(pid); err != nil || sid != pid {
		t.Errorf("session id of %d is %d (%v); want its own pid", pid, sid, err)
	}
	for fd := range 3 {
		if target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, fd)); err != nil || target != os.DevNull {
			t.Errorf("fd %d of %d points at %q (%v), want %s", fd, pid, target, err, os.DevNull)
		}
	}
	if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid)); err != nil || cwd != "/" {
		t.Errorf("cwd of %d is %q (%v), want /", pid, cwd, err)
	}
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?m)^Umask:\s*(\d+)$`).FindSubmatch(st); m != nil {
		if u, _ := strconv.ParseUint(string(m[1]), 8, 32); u != Umask {
			t.Errorf("umask of %d is %s, want %o", pid, m[1], Umask)
		}
	}
}

// TestDaemonizeStaleLock: a lock naming a dead process does not prevent a
// start, and is replaced with the new daemon's pid.
func TestDaemonizeStaleLock(t *testing.T) {
	dir := tempDir(t)
	lock, status := filepath.Join(dir, "lock"), filepath.Join(dir, "status")
	dead := exec.Command(os.Args[0], "-test.run=^$")
	dead.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	deadPid := dead.Process.Pid
	if alive(deadPid) {
		t.Fatalf("pid %d should be gone", deadPid)
	}
	for _, content := range []string{strconv.Itoa(deadPid) + "\n", "garbage", ""} {
		if err := os.WriteFile(lock, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		code, stderr, _ := runHelper(t, "ok", lock, status)
		if code != 0 {
			t.Fatalf("start over stale lock %q: exit %d: %s", content, code, stderr)
		}
		pid, err := readLock(lock)
		if err != nil || pid == deadPid || !alive(pid) {
			t.Fatalf("stale lock %q: lock now names %d (%v)", content, pid, err)
		}
		if fi, _ := os.Stat(lock); fi.Mode().Perm() != LockMode {
			t.Errorf("replaced lock has mode %v", fi.Mode().Perm())
		}
		stopDaemon(t, pid)
		if _, err := os.Stat(lock); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("lock still there after SIGTERM: %v", err)
		}
	}
}

// TestDaemonizeFailures: a daemon that reports a failure, dies, or stays
// silent makes the starting process exit non-zero with the reason, and
// leaves no lock and no process behind.
func TestDaemonizeFailures(t *testing.T) {
	pidRE := regexp.MustCompile(`daemon pid (\d+)`)
	for _, tc := range []struct{ mode, want string }{
		{"fail", "failed to start: cannot listen: address in use"},
		{"exit", "exited before it was ready: exit status 3"},
		{"silent", "did not report ready within 2s"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			dir := tempDir(t)
			lock := filepath.Join(dir, "lock")
			code, stderr, took := runHelper(t, tc.mode, lock, filepath.Join(dir, "status"))
			t.Logf("exit %d after %v: %s", code, took, strings.TrimSpace(stderr))
			if code == 0 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want non-zero with %q", code, stderr, tc.want)
			}
			if m := pidRE.FindStringSubmatch(stderr); m == nil {
				t.Errorf("message does not name the daemon's pid")
			} else if pid, _ := strconv.Atoi(m[1]); alive(pid) {
				unix.Kill(pid, unix.SIGKILL)
				t.Errorf("daemon %d left running", pid)
			}
			if _, err := os.Stat(lock); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("lock left behind: %v", err)
			}
		})
	}
}

func TestLockErrors(t *testing.T) {
	if err := acquireLock(filepath.Join(t.TempDir(), "no", "such", "dir", "lock")); err == nil {
		t.Fatal("lock in a missing directory: no error")
	}
	lock := filepath.Join(t.TempDir(), "lock")
	os.WriteFile(lock, []byte(strconv.Itoa(os.Getpid())), 0o640)
	var are *AlreadyRunningError
	if err := acquireLock(lock); !errors.As(err, &are) || are.PID != os.Getpid() || are.LockPath != lock {
		t.Fatalf("lock held by a live pid: %v", err)
	}
	// A lock another process has taken over is not removed.
	if err := removeLockOf(lock, os.Getpid()+1); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(lock); err != nil {
		t.Fatal("removeLockOf removed a lock it does not hold")
	}
}
