//go:build !windows && !plan9

package logging

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSyslogEmitter sends one line per level to a unix datagram socket
// standing in for syslogd and checks the priorities.
func TestSyslogEmitter(t *testing.T) {
	// Unix socket paths are short (108 bytes); t.TempDir may be too long.
	dir, err := os.MkdirTemp("", "lwslog")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "log")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("unixgram listener: %v", err)
		}
		t.Skipf("unixgram listener: %v", err)
	}
	defer conn.Close()

	emit, err := NewSyslogEmitterTo("unixgram", sock, "lwstest")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		level Level
		pri   int // facility user (1<<3) | severity
	}{
		{Err, 8 | 3}, {Warn, 8 | 4}, {Notice, 8 | 5}, {Info, 8 | 6}, {Debug, 8 | 7},
		{Parser, 8 | 7}, {Header, 8 | 7}, {Ext, 8 | 7}, {Client, 8 | 7}, {Latency, 8 | 7}, {User, 8 | 7},
	}
	buf := make([]byte, 4096)
	for _, c := range cases {
		text := "hello from " + c.level.String()
		emit(c.level, text)
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		msg := string(buf[:n])
		prefix := fmt.Sprintf("<%d>", c.pri)
		if !strings.HasPrefix(msg, prefix) {
			t.Errorf("%v: message %q does not start with %s", c.level, msg, prefix)
		}
		if !strings.Contains(msg, fmt.Sprintf("lwstest[%d]: %s", os.Getpid(), text)) {
			t.Errorf("%v: message %q lacks tag and text", c.level, msg)
		}
	}
}

func TestSyslogEmitterErrors(t *testing.T) {
	if _, err := NewSyslogEmitterTo("unixgram", filepath.Join(t.TempDir(), "nobody"), "x"); err == nil {
		t.Fatal("want error dialing a missing socket")
	}
	// The local daemon may or may not exist; either outcome is fine, but a
	// returned emitter must work.
	if emit, err := NewSyslogEmitter("lws-go-test"); err == nil {
		emit(Debug, "logging package test line")
	} else {
		t.Logf("no local syslog: %v", err)
	}
}
