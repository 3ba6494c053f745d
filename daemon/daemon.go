//go:build unix

package daemon

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ReadyTimeout is how long the starting process waits for the daemon to
// report ready before it kills it and fails.
const ReadyTimeout = 2 * time.Second

// Umask is the daemon's file mode creation mask.
const Umask = 0o027

// envMarker marks the re-executed daemon; its value is the absolute lock
// path.
const envMarker = "LWS_DAEMON_LOCK"

// readyFD is the daemon's end of the readiness pipe (cmd.ExtraFiles[0]).
const readyFD = 3

// The lines the daemon writes on the readiness pipe.
const (
	readyLine  = "ready"
	failPrefix = "fail "
)

// Daemon is the running daemon's side of Daemonize: its lock, the stop
// signal and the report to the starting process.
type Daemon struct {
	lockPath string
	ctx      context.Context
	cancel   context.CancelFunc
	sigs     chan os.Signal

	mu    sync.Mutex
	ready *os.File // the readiness pipe; nil once reported
}

// Daemonize makes the program a daemon holding the lock file at lockPath
// (lws_daemonize). Call it early, after parsing flags and before opening
// listeners or files.
//
// In the starting process Daemonize does not return on success: once the
// daemon reports ready (Daemon.Ready) it writes the daemon's pid into the
// lock file and exits with status 0. It returns an error when the lock is
// held by a live process (*AlreadyRunningError), when the daemon cannot be
// started, reports failure (Daemon.Fail), exits, or does not report within
// ReadyTimeout; the caller should print it and exit non-zero.
//
// In the daemon (the re-executed copy) it returns the Daemon.
func Daemonize(lockPath string) (*Daemon, error) {
	if lock, ok := os.LookupEnv(envMarker); ok {
		return becomeDaemon(lock)
	}
	abs, err := filepath.Abs(lockPath)
	if err != nil {
		return nil, fmt.Errorf("daemon: lock path: %w", err)
	}
	if err := acquireLock(abs); err != nil {
		return nil, err
	}
	pid, err := startDaemon(abs)
	if err == nil {
		err = writeLock(abs, pid)
	}
	if err != nil {
		removeLockOf(abs, os.Getpid())
		return nil, err
	}
	os.Exit(0)
	panic("unreachable")
}

// startDaemon re-executes the program as the daemon and waits for its
// report; it returns the daemon's pid once it is ready.
func startDaemon(lockPath string) (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("daemon: finding the program to re-execute: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return 0, fmt.Errorf("daemon: readiness pipe: %w", err)
	}
	defer r.Close()
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	cmd.Env = append(os.Environ(), envMarker+"="+lockPath)
	cmd.ExtraFiles = []*os.File{w} // fd 3 = readyFD
	// Stdin, Stdout and Stderr stay nil: /dev/null. A new session detaches
	// it from our terminal at once; the daemon checks it leads it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	closeInheritedOnExec()
	err = cmd.Start()
	w.Close()
	if err != nil {
		return 0, fmt.Errorf("daemon: starting %s: %w", exe, err)
	}
	pid := cmd.Process.Pid

	r.SetReadDeadline(time.Now().Add(ReadyTimeout))
	line, rerr := bufio.NewReader(r).ReadString('\n')
	line = strings.TrimSuffix(line, "\n")
	switch {
	case rerr == nil && line == readyLine:
		cmd.Process.Release() // it lives on; init reaps it
		return pid, nil
	case rerr == nil && strings.HasPrefix(line, failPrefix):
		werr := waitOrKill(cmd)
		return 0, fmt.Errorf("daemon pid %d failed to start: %s (%v)", pid, strings.TrimPrefix(line, failPrefix), werr)
	case errors.Is(rerr, os.ErrDeadlineExceeded):
		cmd.Process.Kill()
		cmd.Wait()
		return 0, fmt.Errorf("daemon pid %d did not report ready within %v; killed it", pid, ReadyTimeout)
	default:
		werr := waitOrKill(cmd)
		return 0, fmt.Errorf("daemon pid %d exited before it was ready: %v", pid, werr)
	}
}

// closeInheritedOnExec marks every descriptor above stderr close-on-exec,
// so that the daemon does not keep open what the starting process
// inherited (a pipe its caller is reading to the end, say). The starting
// process exits soon, so changing its own descriptors is harmless; Go
// opens its own with close-on-exec already.
func closeInheritedOnExec() {
	for _, dir := range [...]string{"/proc/self/fd", "/dev/fd"} {
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
				unix.CloseOnExec(fd)
			}
		}
		return
	}
}

// waitOrKill waits for a daemon that failed to end by itself, killing it
// after ReadyTimeout; it returns how it ended.
func waitOrKill(cmd *exec.Cmd) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			return errors.New("exit status 0")
		}
		return err
	case <-time.After(ReadyTimeout):
		cmd.Process.Kill()
		return fmt.Errorf("killed after %v: %v", ReadyTimeout, <-done)
	}
}

// becomeDaemon is Daemonize in the re-executed copy.
func becomeDaemon(lockPath string) (*Daemon, error) {
	os.Unsetenv(envMarker) // not for our own children
	d := &Daemon{lockPath: lockPath, ready: os.NewFile(readyFD, "daemon-ready")}
	if d.ready == nil {
		return nil, errors.New("daemon: started with the marker but without the readiness pipe")
	}
	if sid, err := unix.Getsid(0); err != nil || sid != os.Getpid() {
		if _, err := unix.Setsid(); err != nil {
			d.Fail(fmt.Errorf("setsid: %w", err))
			return nil, fmt.Errorf("daemon: setsid: %w", err)
		}
	}
	unix.Umask(Umask)
	if err := os.Chdir("/"); err != nil {
		d.Fail(err)
		return nil, fmt.Errorf("daemon: %w", err)
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.sigs = make(chan os.Signal, 1)
	signal.Notify(d.sigs, unix.SIGTERM, unix.SIGINT)
	go func() {
		if _, ok := <-d.sigs; ok {
			d.cancel()
		}
	}()
	return d, nil
}

// LockPath is the absolute path of the lock file.
func (d *Daemon) LockPath() string { return d.lockPath }

// Context is cancelled when the daemon receives SIGTERM or SIGINT: stop
// the service, then call Close.
func (d *Daemon) Context() context.Context { return d.ctx }

// Ready tells the starting process the daemon is up; it then records the
// daemon's pid in the lock file and exits 0. Later calls do nothing.
func (d *Daemon) Ready() error { return d.report(readyLine) }

// Fail tells the starting process the daemon cannot run and why; it exits
// non-zero with the reason. The daemon should exit after it.
func (d *Daemon) Fail(reason error) {
	msg := strings.ReplaceAll(fmt.Sprint(reason), "\n", " ")
	d.report(failPrefix + msg)
}

func (d *Daemon) report(line string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ready == nil {
		return nil
	}
	_, err := d.ready.WriteString(line + "\n")
	d.ready.Close()
	d.ready = nil
	if err != nil {
		return fmt.Errorf("daemon: reporting to the starting process: %w", err)
	}
	return nil
}

// Close removes the lock file (if it still holds this daemon's pid) and
// stops watching for signals. Call it once, when the service has stopped.
func (d *Daemon) Close() error {
	if d.sigs != nil {
		signal.Stop(d.sigs)
		close(d.sigs)
		d.sigs = nil
	}
	if d.cancel != nil {
		d.cancel()
	}
	d.report(failPrefix + "closed before it was ready")
	return removeLockOf(d.lockPath, os.Getpid())
}
