package lws_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lws-go/lws"
)

// resources are the process's open descriptors and goroutines.
type resources struct{ fds, goroutines int }

func (r resources) String() string { return fmt.Sprintf("%d fds, %d goroutines", r.fds, r.goroutines) }

func countFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("counting fds: %v", err)
	}
	return len(ents) - 1 // the directory being read
}

func snapshot(t testing.TB) resources {
	return resources{fds: countFDs(t), goroutines: runtime.NumGoroutine()}
}

// waitBaseline waits until the fds and goroutines are back to base,
// failing with what is left after a generous timeout.
func waitBaseline(t testing.TB, base resources, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		now := snapshot(t)
		if now.fds <= base.fds && now.goroutines <= base.goroutines {
			t.Logf("%s: %v (before: %v)", what, now, base)
			return
		}
		if time.Now().After(deadline) {
			var links []string
			ents, _ := os.ReadDir("/proc/self/fd")
			for _, e := range ents {
				l, _ := os.Readlink("/proc/self/fd/" + e.Name())
				links = append(links, e.Name()+" -> "+l)
			}
			buf := make([]byte, 1<<20)
			t.Fatalf("%s: %v, before: %v\nfds:\n%s\ngoroutines:\n%s", what, now, base,
				strings.Join(links, "\n"), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runService starts a service on a free port without the cleanup of
// startService: the test ends it and checks Run returned.
func runService(t *testing.T, cfg lws.Config) (*lws.Service, <-chan error) {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	svc, err := lws.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- svc.Run() }()
	t.Cleanup(func() { svc.Close() })
	return svc, done
}

func waitRun(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return")
	}
}

// quietBaseline takes the resource baseline once the runtime's own
// lazily created descriptors (the network poller) exist.
func quietBaseline(t *testing.T) resources {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	return snapshot(t)
}

// answerClose reads frames until the server's close, records its code,
// echoes it and waits for the server to end the connection.
func answerClose(t *testing.T, rc *rawConn) (code int, err error) {
	for {
		f, err := rc.readFrame(t)
		if err != nil {
			return 0, err
		}
		if f.op != 0x8 {
			continue
		}
		if len(f.payload) >= 2 {
			code = int(f.payload[0])<<8 | int(f.payload[1])
		}
		rc.Write(frame(0x88, key1, f.payload))
		rc.SetReadDeadline(time.Now().Add(20 * time.Second))
		if _, err := io.Copy(io.Discard, rc.r); err != nil {
			return code, err
		}
		return code, nil
	}
}

// TestShutdownGraceful: Shutdown sends 1001 to every WebSocket, closes
// idle HTTP connections, returns nil once every peer answered, and leaves
// no goroutine and no fd behind.
func TestShutdownGraceful(t *testing.T) {
	base := quietBaseline(t)
	svc, done := runService(t, lws.Config{Protocols: []*lws.Protocol{wholeEcho("echo")}})
	const n = 10
	codes := make([]int, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		rc := dialWS(t, svc, "echo")
		echoOK(t, rc, "before shutdown")
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], errs[i] = answerClose(t, rc)
			rc.Close()
		}()
	}
	// An idle kept-alive HTTP connection and one mid-request.
	idle, err := net.Dial("tcp", svc.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	idle.Write([]byte("GET /none HTTP/1.1\r\nHost: localhost\r\n\r\n"))
	idleR := bufio.NewReader(idle)
	if resp, err := http.ReadResponse(idleR, nil); err != nil {
		t.Fatal(err)
	} else {
		io.Copy(io.Discard, resp.Body)
	}
	partial, err := net.Dial("tcp", svc.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer partial.Close()
	partial.Write([]byte("GET / HTTP/1.1\r\nHost: loc"))
	waitCond(t, "every connection accepted", func() bool { return svc.Connections() == n+2 })
	// Like a browser, the HTTP clients close when the server ends the
	// connection.
	httpErrs := make(chan error, 2)
	for _, c := range []net.Conn{idle, partial} {
		go func() {
			c.SetReadDeadline(time.Now().Add(20 * time.Second))
			_, err := io.Copy(io.Discard, c)
			c.Close()
			httpErrs <- err
		}()
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := svc.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	waitRun(t, done)
	wg.Wait()
	for i := range codes {
		if errs[i] != nil || codes[i] != 1001 {
			t.Errorf("connection %d: close code %d, %v; want 1001 then the end", i, codes[i], errs[i])
		}
	}
	for range 2 {
		if err := <-httpErrs; err != nil {
			t.Errorf("HTTP connection after Shutdown: %v, want EOF", err)
		}
	}
	if _, err := net.Dial("tcp", svc.Addr().String()); err == nil {
		t.Error("the listener still accepts after Shutdown")
	}
	waitBaseline(t, base, "after Shutdown")
}

// TestShutdownDeadline: a peer that never answers the close keeps Shutdown
// waiting until its context ends; then the connection is closed and
// nothing is left behind.
func TestShutdownDeadline(t *testing.T) {
	base := quietBaseline(t)
	svc, done := runService(t, lws.Config{Protocols: []*lws.Protocol{wholeEcho("echo")}})
	deaf := dialWS(t, svc, "echo")
	polite := dialWS(t, svc, "echo")
	politeDone := make(chan error, 1)
	go func() {
		_, err := answerClose(t, polite)
		politeDone <- err
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := svc.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown with a deaf peer: %v, want context.DeadlineExceeded", err)
	}
	waitRun(t, done)
	if err := <-politeDone; err != nil {
		t.Errorf("the answering peer: %v", err)
	}
	// The deaf peer got the 1001 and then the end of the connection.
	f, err := deaf.readFrame(t)
	if err != nil || f.op != 0x8 || len(f.payload) < 2 || int(f.payload[0])<<8|int(f.payload[1]) != 1001 {
		t.Fatalf("deaf peer: %v %v, want close 1001", f, err)
	}
	deaf.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.Copy(io.Discard, deaf.r); err != nil && !strings.Contains(err.Error(), "reset") {
		t.Errorf("deaf peer after Shutdown: %v, want the end of the connection", err)
	}
	deaf.Close()
	polite.Close()
	waitBaseline(t, base, "after Shutdown at its deadline")
}

// TestCloseImmediate: Close ends every connection at once, without a close
// handshake, whatever state it is in, and leaves no goroutine and no fd.
func TestCloseImmediate(t *testing.T) {
	base := quietBaseline(t)
	svc, done := runService(t, lws.Config{Protocols: []*lws.Protocol{wholeEcho("echo")}})
	var conns []net.Conn
	for i := 0; i < 5; i++ {
		rc := dialWS(t, svc, "echo")
		echoOK(t, rc, "before close")
		conns = append(conns, rc)
	}
	partial, err := net.Dial("tcp", svc.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	partial.Write([]byte("GET / HTTP/1.1\r\n"))
	conns = append(conns, partial)
	// A client connection of the same service, to one of its own.
	rec := newRecorder()
	if _, err := svc.Connect(lws.ClientInfo{URL: fmt.Sprintf("ws://127.0.0.1:%d/", svc.Port()), Protocols: []string{"echo"}, Protocol: rec.proto}); err != nil {
		t.Fatal(err)
	}
	if ev := rec.next(t); ev.kind != "established" {
		t.Fatalf("client connection: %q %v", ev.kind, ev.err)
	}
	waitCond(t, "every connection in the table", func() bool { return svc.Connections() == 6+2 })

	if err := svc.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	waitRun(t, done)
	if n := svc.Connections(); n != 0 {
		t.Errorf("%d connections after Close", n)
	}
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		var b [1]byte
		if _, err := c.Read(b[:]); err != io.EOF && (err == nil || !strings.Contains(err.Error(), "reset")) {
			t.Errorf("connection %d after Close: %v, want the end of the connection", i, err)
		}
		c.Close()
	}
	waitBaseline(t, base, "after Close")
}
