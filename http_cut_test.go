package lws_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/logging"
)

// warnLog collects the lines logged at WARN while a test runs.
type warnLog struct {
	mu    sync.Mutex
	lines []string
}

func captureWarnLog(t *testing.T) *warnLog {
	wl := &warnLog{}
	prev := logging.LogLevel()
	logging.SetLogLevel(prev|logging.Warn, func(level logging.Level, line string) {
		if level == logging.Warn {
			wl.mu.Lock()
			wl.lines = append(wl.lines, line)
			wl.mu.Unlock()
		}
		logging.EmitStderr(level, line)
	})
	t.Cleanup(func() { logging.SetLogLevel(prev, logging.EmitStderr) })
	return wl
}

func (wl *warnLog) find(sub string) string {
	wl.mu.Lock()
	defer wl.mu.Unlock()
	for _, l := range wl.lines {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

// TestServedFileShrinks: a file truncated while it is being served (log
// rotation, a redeploy) cannot complete the Content-Length already sent.
// The server sends what the file still has, then ends the connection
// (with a WARN line): the client sees the body cut short by the end of
// the connection, and never the answer to its next pipelined request
// inside that body, which a proxy reusing the connection would hand to
// another client.
func TestServedFileShrinks(t *testing.T) {
	const size, shrunk = 32 << 20, 1 << 20
	dir := t.TempDir()
	big := filepath.Join(dir, "big.bin")
	if err := os.WriteFile(big, bytes.Repeat([]byte("a"), size), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "next.txt"), []byte("the next answer"), 0o644); err != nil {
		t.Fatal(err)
	}
	warns := captureWarnLog(t)
	svc := startService(t, lws.Config{DocumentRoot: dir})

	d := net.Dialer{}
	c, err := d.Dial("tcp", svc.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A small receive buffer: the server can send only so much ahead of
	// what this client reads, and must read the rest of the file later.
	c.(*net.TCPConn).SetReadBuffer(32 << 10)
	if _, err := c.Write([]byte("GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\nGET /next.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReaderSize(c, 4<<10)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.ContentLength != size {
		t.Fatalf("answer: %d, Content-Length %d; want 200, %d", resp.StatusCode, resp.ContentLength, size)
	}
	// The head came: the server has the file open. Shrink it, then read.
	if err := os.Truncate(big, shrunk); err != nil {
		t.Fatal(err)
	}
	var body [64 << 10]byte
	n := 0
	var readErr error
	for {
		k, err := r.Read(body[:])
		if i := bytes.IndexFunc(body[:k], func(r rune) bool { return r != 'a' }); i >= 0 {
			t.Fatalf("at byte %d of the body, not the file's content: %.60q (the next answer inside this body?)", n+i, body[i:k])
		}
		n += k
		if err != nil {
			readErr = err
			break
		}
	}
	t.Logf("body cut at %d of %d bytes by %v", n, size, readErr)
	if readErr != io.EOF && !strings.Contains(readErr.Error(), "reset") {
		t.Errorf("after the body: %v, want the end of the connection", readErr)
	}
	if n >= size || n < shrunk {
		t.Errorf("the body has %d bytes; want what the file had when it ended, at least %d and less than the %d promised", n, shrunk, size)
	}
	waitCond(t, "the WARN line about the file", func() bool { return warns.find("big.bin ended") != "" })
	if l := warns.find("big.bin ended"); !strings.Contains(l, "closing the connection") {
		t.Errorf("WARN line %q does not say the connection is closed", l)
	}
	c.Close() // like a browser, once the server ended the connection
	waitCond(t, "the server connection closed", func() bool { return svc.Connections() == 0 })
}
