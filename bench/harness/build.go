package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// CServer is the name of the libwebsockets C echo server.
const CServer = "lwsc"

// Binaries are the built programs of a benchmark run.
type Binaries struct {
	Server string // bench-server
	Load   string // bench-load
	C      string // lws-c-echo, "" when libwebsockets-dev is missing
	// CMissing says why C is empty.
	CMissing string
}

// moduleDir is the bench module's root (this file's parent directory).
func moduleDir() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("harness: cannot locate the bench module")
	}
	return filepath.Dir(filepath.Dir(file)), nil
}

// Build builds the Go programs into dir and, when pkg-config knows
// libwebsockets, the C server.
func Build(dir string) (Binaries, error) {
	mod, err := moduleDir()
	if err != nil {
		return Binaries{}, err
	}
	b := Binaries{Server: filepath.Join(dir, "bench-server"), Load: filepath.Join(dir, "bench-load")}
	for out, pkg := range map[string]string{b.Server: "./cmd/bench-server", b.Load: "./cmd/bench-load"} {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Dir = mod
		if msg, err := cmd.CombinedOutput(); err != nil {
			return b, fmt.Errorf("harness: go build %s: %v\n%s", pkg, err, msg)
		}
	}
	flags, err := exec.Command("pkg-config", "--cflags", "--libs", "libwebsockets").Output()
	if err != nil {
		b.CMissing = "libwebsockets-dev is not installed (scripts/install-bench.sh installs it)"
		return b, nil
	}
	c := filepath.Join(dir, "lws-c-echo")
	args := append([]string{"-O2", "-o", c, filepath.Join(mod, "servers", "lwsc", "echo.c")}, strings.Fields(string(flags))...)
	if msg, err := exec.Command("cc", args...).CombinedOutput(); err != nil {
		return b, fmt.Errorf("harness: building the C server: %v\n%s", err, msg)
	}
	b.C = c
	return b, nil
}

// lwsCVersion is the version of the installed libwebsockets, or "".
func lwsCVersion() string {
	out, err := exec.Command("pkg-config", "--modversion", "libwebsockets").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
