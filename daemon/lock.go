//go:build unix

package daemon

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// LockMode is the permission of the lock file.
const LockMode = 0o640

// AlreadyRunningError is returned by Daemonize when the lock file names a
// live process.
type AlreadyRunningError struct {
	PID      int
	LockPath string
}

func (e *AlreadyRunningError) Error() string {
	return fmt.Sprintf("already running as pid %d (lock file %s)", e.PID, e.LockPath)
}

// acquireLock creates the lock file with our pid, exclusively. A lock
// holding a live pid refuses; one holding a dead pid or no pid at all is
// stale and replaced.
func acquireLock(path string) error {
	for range 5 {
		err := writeNewFile(path, os.Getpid())
		if err == nil {
			return nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("daemon: creating lock file: %w", err)
		}
		if pid, err := readLock(path); err == nil && alive(pid) {
			return &AlreadyRunningError{PID: pid, LockPath: path}
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("daemon: removing stale lock file: %w", err)
		}
	}
	return fmt.Errorf("daemon: lock file %s keeps reappearing", path)
}

// writeNewFile creates path exclusively with pid in it, mode LockMode
// whatever the umask.
func writeNewFile(path string, pid int) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, LockMode)
	if err != nil {
		return err
	}
	_, err = f.WriteString(strconv.Itoa(pid) + "\n")
	if err == nil {
		err = f.Chmod(LockMode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// writeLock replaces the lock's content with pid atomically (a new file
// renamed over it), so that a concurrent start always sees a whole pid.
func writeLock(path string, pid int) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp"+strconv.Itoa(os.Getpid()))
	os.Remove(tmp)
	if err := writeNewFile(tmp, pid); err != nil {
		return fmt.Errorf("daemon: writing lock file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("daemon: writing lock file: %w", err)
	}
	return nil
}

// readLock reads the pid in a lock file.
func readLock(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("daemon: lock file %s holds %q, not a pid", path, b)
	}
	return pid, nil
}

// removeLockOf removes the lock file if it holds pid (and only then: a
// lock another instance has taken over is not ours to remove).
func removeLockOf(path string, pid int) error {
	if p, err := readLock(path); err != nil || p != pid {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("daemon: removing lock file: %w", err)
	}
	return nil
}

// alive reports whether a process with this pid exists and is not a
// zombie waiting to be reaped.
func alive(pid int) bool {
	if err := unix.Kill(pid, 0); err != nil && err != unix.EPERM {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // no procfs: trust kill(2)
	}
	// state is the field after the command name, which ends with the last ')'.
	if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] != 'Z' && b[i+2] != 'X'
	}
	return true
}
