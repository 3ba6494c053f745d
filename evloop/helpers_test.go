package evloop

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

const waitLong = 10 * time.Second

// allBackends are the backends of this system: those polling fds
// (fdBackends) and BackendPortable.
var allBackends = append(fdBackends[:len(fdBackends):len(fdBackends)], BackendPortable)

func newLoop(t testing.TB, cfg Config) *Loop {
	t.Helper()
	if cfg.Table == nil {
		cfg.Table = NewTable(4096)
	}
	l, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return l
}

// startLoop runs l in a goroutine; cleanup stops, waits and closes it.
func startLoop(t testing.TB, l *Loop) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- l.Run() }()
	t.Cleanup(func() {
		l.Stop()
		select {
		case <-done:
		case <-time.After(waitLong):
			t.Errorf("Run did not return after Stop")
		}
		l.Close()
	})
	return done
}

// onLoop runs f on the loop goroutine and waits for it.
func onLoop(t testing.TB, l *Loop, f func()) {
	t.Helper()
	ch := make(chan struct{})
	if err := l.Post(func() { f(); close(ch) }); err != nil {
		t.Fatalf("Post: %v", err)
	}
	wait(t, ch, "posted func")
}

func wait[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLong):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// testGoid parses the current goroutine id.
func testGoid() int64 {
	var buf [64]byte
	s := string(buf[:runtime.Stack(buf[:], false)])
	s = strings.TrimPrefix(s, "goroutine ")
	if i := strings.IndexByte(s, ' '); i > 0 {
		s = s[:i]
	}
	id, _ := strconv.ParseInt(s, 10, 64)
	return id
}
