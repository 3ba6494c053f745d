package lws_test

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain runs the package's tests, then fails the run if goroutines
// started by them are still alive: every service loop, name lookup and
// Dial must be gone once its test has cleaned up.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := leakedGoroutines(10 * time.Second); leaked != "" {
			fmt.Fprintf(os.Stderr, "FAIL: goroutines leaked by the tests:\n\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// leakIgnored are goroutines of the runtime and the testing package, not
// of the tests.
var leakIgnored = []string{
	"testing.(*M).",
	"testing.runFuzzing",
	"os/signal.signal_recv",
	"os/signal.loop",
	"runtime.ensureSigM",
	"runtime.goexit0",
}

// leakedGoroutines waits up to wait for the goroutines other than the
// calling one to end and returns the stacks of those that did not.
func leakedGoroutines(wait time.Duration) string {
	deadline := time.Now().Add(wait)
	for {
		buf := make([]byte, 4<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaked []string
		for i, g := range strings.Split(string(buf), "\n\n") {
			if i == 0 || strings.TrimSpace(g) == "" {
				continue // the first is this goroutine
			}
			ignored := false
			for _, s := range leakIgnored {
				if strings.Contains(g, s) {
					ignored = true
					break
				}
			}
			if !ignored {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 {
			return ""
		}
		if time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
