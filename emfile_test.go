//go:build unix

package lws_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"golang.org/x/sys/unix"
)

const emfileChildEnv = "LWS_EMFILE_CHILD"

// TestAcceptPausesOnEMFILE runs a service in a child process whose every
// descriptor is taken (so accept fails with EMFILE), with a client waiting
// to be accepted: the service must pause accepting rather than spin on a
// listener that stays readable (its CPU time over the time between the
// listener's first and second warning stays a small part of that time, and
// the waiting client is neither served nor dropped), and once descriptors
// are freed the waiting client is accepted and served.
func TestAcceptPausesOnEMFILE(t *testing.T) {
	if os.Getenv(emfileChildEnv) == "1" {
		emfileChild()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestAcceptPausesOnEMFILE$")
	cmd.Env = append(os.Environ(), emfileChildEnv+"=1", "GORACE=atexit_sleep_ms=0")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("child stderr:\n%s", stderr.String())
		}
	}()
	lines := bufio.NewScanner(stdout)
	expect := func(prefix string) string {
		t.Helper()
		if !lines.Scan() || !strings.HasPrefix(lines.Text(), prefix) {
			t.Fatalf("child said %q (%v), want %q", lines.Text(), lines.Err(), prefix)
		}
		return strings.TrimPrefix(lines.Text(), prefix)
	}
	addr := expect("listening ")
	t.Logf("child: descriptors full after %s more", expect("full "))

	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n"))

	warnings := func() int { return strings.Count(stderr.String(), "too many open files") }
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor("the first EMFILE warning", func() bool { return warnings() >= 1 })
	cpu0, t0 := childCPU(t, cmd.Process.Pid), time.Now()
	waitFor("the EMFILE warning to repeat", func() bool { return warnings() >= 2 })
	cpu, window := childCPU(t, cmd.Process.Pid)-cpu0, time.Since(t0)
	t.Logf("out of descriptors with a client waiting: %v of CPU in %v", cpu, window.Round(time.Millisecond))
	if cpu > window/10 {
		t.Errorf("the service used %v of CPU in %v while out of descriptors: it spins instead of pausing accept", cpu, window)
	}
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, err := c.Read(make([]byte, 1)); n != 0 || !isTimeout(err) {
		t.Fatalf("the waiting client was answered or dropped while the service was out of descriptors: %d, %v", n, err)
	}

	// Free the descriptors: the waiting client is accepted and served.
	fmt.Fprintln(stdin, "free")
	expect("freed")
	rc := &rawConn{Conn: c, r: bufio.NewReader(c)}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	status, err := rc.r.ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "HTTP/1.1 101") {
		t.Fatalf("after descriptors were freed: %q, %v", status, err)
	}
	for {
		l, err := rc.r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if l == "\r\n" {
			break
		}
	}
	rc.Write(frame(0x81, key1, []byte("hello")))
	if f, err := rc.readFrame(t); err != nil || string(f.payload) != "hello" {
		t.Fatalf("echo after the pause: %v, %v", f, err)
	}
}

// emfileChild is the child of TestAcceptPausesOnEMFILE: a service under
// RLIMIT_NOFILE 64 with every other descriptor taken until told "free".
func emfileChild() {
	fail := func(err error) { fmt.Fprintln(os.Stderr, "child:", err); os.Exit(2) }
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: 64, Max: 64}); err != nil {
		fail(err)
	}
	svc, err := lws.New(lws.Config{Addr: "127.0.0.1:0", Protocols: []*lws.Protocol{echoProtocol("echo")}})
	if err != nil {
		fail(err)
	}
	go svc.Run()
	fmt.Printf("listening %s\n", svc.Addr())
	// The runtime creates its own epoll fd the first time a timer is set;
	// without one it would die later for want of a descriptor.
	time.AfterFunc(time.Hour, func() {}).Stop()
	var fillers []int
	for {
		fd, err := unix.Open(os.DevNull, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			break
		}
		fillers = append(fillers, fd)
	}
	fmt.Printf("full %d\n", len(fillers))
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() == "free" {
			for _, fd := range fillers {
				unix.Close(fd)
			}
			fmt.Println("freed")
		}
	}
	svc.Close()
	os.Exit(0)
}

// childCPU is a process's user+system CPU time from /proc/PID/stat.
func childCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * (time.Second / 100)
}

// lockedBuffer collects a child's stderr for concurrent reading.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
