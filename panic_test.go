package lws_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/logging"
	"github.com/lws-go/lws/wsproto"
)

// errLog collects the lines logged at ERR while a test runs (they are
// printed only if the test fails).
type errLog struct {
	mu    sync.Mutex
	lines []string
}

func captureErrLog(t *testing.T) *errLog {
	el := &errLog{}
	prev := logging.LogLevel()
	logging.SetLogLevel(prev|logging.Err, func(level logging.Level, line string) {
		if level != logging.Err {
			logging.EmitStderr(level, line)
			return
		}
		el.mu.Lock()
		el.lines = append(el.lines, line)
		el.mu.Unlock()
	})
	t.Cleanup(func() {
		logging.SetLogLevel(prev, logging.EmitStderr)
		if t.Failed() {
			el.mu.Lock()
			t.Logf("ERR lines:\n%s", strings.Join(el.lines, "\n"))
			el.mu.Unlock()
		}
	})
	return el
}

// find returns the first ERR line containing every one of subs.
func (el *errLog) find(subs ...string) string {
	el.mu.Lock()
	defer el.mu.Unlock()
next:
	for _, l := range el.lines {
		for _, s := range subs {
			if !strings.Contains(l, s) {
				continue next
			}
		}
		return l
	}
	return ""
}

// echoOK checks one echo round trip on a bystander connection.
func echoOK(t *testing.T, rc *rawConn, msg string) {
	t.Helper()
	rc.Write(frame(0x81, key1, []byte(msg)))
	f, err := rc.readFrame(t)
	if err != nil || f.op != 0x1 || string(f.payload) != msg {
		t.Fatalf("bystander echo of %q: %v %v", msg, f, err)
	}
}

// TestPanicContainment makes every kind of callback panic on one
// connection: that connection is closed with 1011 (an HTTP request gets
// 500), the panic is logged at ERR with its stack, and the service and
// every other connection go on.
func TestPanicContainment(t *testing.T) {
	el := captureErrLog(t)
	closedPanicked := make(chan struct{}, 1)
	bomb := &lws.Protocol{
		Name: "bomb",
		OnReceive: func(c *lws.Conn, data []byte) {
			switch string(data) {
			case "receive":
				panic("boom in OnReceive")
			case "writeable":
				c.RequestWriteable()
			case "timer":
				c.SetTimer(time.Millisecond)
			case "ping me":
				c.Write([]byte("pong me"), lws.WritePing)
			}
		},
		OnWriteable: func(c *lws.Conn) { panic("boom in OnWriteable") },
		OnTimer:     func(c *lws.Conn) { panic("boom in OnTimer") },
		OnPong:      func(c *lws.Conn, p []byte) { panic("boom in OnPong") },
	}
	bombEstablished := &lws.Protocol{Name: "bomb-established", OnEstablished: func(c *lws.Conn) { panic("boom in OnEstablished") }}
	bombClosed := &lws.Protocol{Name: "bomb-closed", OnClosed: func(c *lws.Conn, code wsproto.CloseCode, reason string) {
		closedPanicked <- struct{}{}
		panic("boom in OnClosed")
	}}
	svc := startService(t, lws.Config{
		Protocols: []*lws.Protocol{wholeEcho("echo"), bomb, bombEstablished, bombClosed},
		HTTP: func(r *lws.HTTPRequest) {
			if r.Path == "/panic" {
				panic("boom in HTTP")
			}
			r.Respond(200, "text/plain", []byte("fine"))
		},
	})
	var bystanders []*rawConn
	for i := 0; i < 5; i++ {
		bystanders = append(bystanders, dialWS(t, svc, "echo"))
	}
	checkBystanders := func(after string) {
		t.Helper()
		for i, b := range bystanders {
			echoOK(t, b, fmt.Sprintf("bystander %d after %s", i, after))
		}
	}

	for _, tc := range []struct {
		callback string
		proto    string
		trigger  func(rc *rawConn)
	}{
		{"OnReceive", "bomb", func(rc *rawConn) { rc.Write(frame(0x81, key1, []byte("receive"))) }},
		{"OnWriteable", "bomb", func(rc *rawConn) { rc.Write(frame(0x81, key1, []byte("writeable"))) }},
		{"OnTimer", "bomb", func(rc *rawConn) { rc.Write(frame(0x81, key1, []byte("timer"))) }},
		{"OnPong", "bomb", func(rc *rawConn) {
			rc.Write(frame(0x81, key1, []byte("ping me")))
			if f, err := rc.readFrame(t); err != nil || f.op != 0x9 {
				t.Fatalf("want the server's PING, got %v %v", f, err)
			}
			rc.Write(frame(0x8A, key1, []byte("pong me")))
		}},
		{"OnEstablished", "bomb-established", func(rc *rawConn) {}},
	} {
		rc := dialWS(t, svc, tc.proto)
		tc.trigger(rc)
		if code, reason := rc.expectClose(t); code != 1011 || reason != "internal error" {
			t.Errorf("panic in %s: close %d %q, want 1011 \"internal error\"", tc.callback, code, reason)
		}
		line := el.find("panic in "+tc.callback+" callback", "boom in "+tc.callback, "goroutine ", "panic_test.go")
		if line == "" {
			t.Errorf("panic in %s: no ERR line with the panic and its stack", tc.callback)
		}
		checkBystanders(tc.callback)
	}

	// OnClosed runs when the connection is already gone: the panic is
	// logged and nothing else happens.
	rc := dialWS(t, svc, "bomb-closed")
	rc.Write(frame(0x88, key1, []byte{0x03, 0xE8}))
	if code, _ := rc.expectClose(t); code != 1000 {
		t.Errorf("close echo on bomb-closed: %d, want 1000", code)
	}
	rc.Close()
	select {
	case <-closedPanicked:
	case <-time.After(20 * time.Second):
		t.Fatal("OnClosed never ran")
	}
	waitCond(t, "the OnClosed panic logged", func() bool { return el.find("panic in OnClosed callback", "goroutine ") != "" })
	checkBystanders("OnClosed")

	// A panicking HTTP handler answers 500; the next request is served.
	for _, tc := range []struct {
		path   string
		status int
	}{{"/panic", 500}, {"/ok", 200}} {
		c, err := net.DialTimeout("tcp", svc.Addr().String(), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", tc.path)
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("GET %s: %v", tc.path, err)
		}
		io.Copy(io.Discard, resp.Body)
		c.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("GET %s: status %d, want %d", tc.path, resp.StatusCode, tc.status)
		}
	}
	if el.find("panic in HTTP callback", "boom in HTTP", "goroutine ") == "" {
		t.Error("no ERR line for the HTTP handler's panic")
	}
	checkBystanders("HTTP")
	if n := svc.Connections(); n < len(bystanders) {
		t.Errorf("%d connections left, want the %d bystanders", n, len(bystanders))
	}
}

// TestServicePostPanic: a panic in a function given to Service.Post is
// logged and the loop goes on serving.
func TestServicePostPanic(t *testing.T) {
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{echoProtocol("echo")}})
	if err := svc.Post(func() { panic("posted panic") }); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	if err := svc.Post(func() { close(done) }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the loop stopped after a panic in a posted function")
	}
	c := dialWS(t, svc, "")
	c.Write(frame(0x81, key1, []byte("still here")))
	if f, err := c.readFrame(t); err != nil || string(f.payload) != "still here" {
		t.Fatalf("echo after the panic: %v %v", f, err)
	}
}
