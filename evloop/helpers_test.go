package evloop

import (
	"errors"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const waitLong = 10 * time.Second

var backends = []struct {
	name      string
	forcePoll bool
}{
	{"epoll", false},
	{"poll", true},
}

func socketpair(t testing.TB) (a, b int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	for _, fd := range fds {
		unix.CloseOnExec(fd)
		if err := unix.SetNonblock(fd, true); err != nil {
			t.Fatalf("nonblock: %v", err)
		}
	}
	t.Cleanup(func() {
		unix.Close(fds[0])
		unix.Close(fds[1])
	})
	return fds[0], fds[1]
}

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

func writeAll(t testing.TB, fd int, p []byte) {
	t.Helper()
	for len(p) > 0 {
		n, err := unix.Write(fd, p)
		if err != nil {
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				continue
			}
			t.Fatalf("write: %v", err)
		}
		p = p[n:]
	}
}
