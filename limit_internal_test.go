package lws

import (
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lws-go/lws/evloop"
	"github.com/lws-go/lws/logging"
)

// TestHugeRlimitCapped creates a service as if RLIMIT_NOFILE were 1e9 (the
// kernel grants at most fs.nr_open, so the limit is posed through the
// sizing hook; the open fds are really counted): the table is capped, the
// heap grows by the table's few MiB, not gigabytes, the NOTICE at start
// says so, and the service serves.
func TestHugeRlimitCapped(t *testing.T) {
	prev := sizeTable
	t.Cleanup(func() { sizeTable = prev })
	sizeTable = func(max int) (evloop.Sizing, error) {
		real, err := evloop.SizeTable(max)
		return evloop.SizeTableFor(max, 1e9, real.Open), err
	}
	var mu sync.Mutex
	var notices []string
	prevMask := logging.LogLevel()
	logging.SetLogLevel(logging.Err|logging.Warn|logging.Notice, func(l logging.Level, line string) {
		mu.Lock()
		notices = append(notices, line)
		mu.Unlock()
	})
	t.Cleanup(func() { logging.SetLogLevel(prevMask, logging.EmitStderr) })

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	svc, err := New(Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	done := make(chan error, 1)
	go func() { done <- svc.Run() }()
	defer func() {
		svc.Close()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("table %d slots, %d bytes; MaxConns %d; heap grew by %d bytes", svc.TableSize(), svc.table.MemoryBytes(), svc.MaxConns(), grown)
	if svc.TableSize() != evloop.DefaultTableCap || svc.MaxConns() > svc.TableSize() || svc.MaxConns() < svc.TableSize()-64 {
		t.Fatalf("RLIMIT_NOFILE 1e9: table %d, MaxConns %d; want the table capped at %d", svc.TableSize(), svc.MaxConns(), evloop.DefaultTableCap)
	}
	if mb := svc.table.MemoryBytes(); mb > 32<<20 || grown > 64<<20 {
		t.Fatalf("RLIMIT_NOFILE 1e9: table takes %d bytes, heap grew by %d", mb, grown)
	}
	mu.Lock()
	logged := strings.Join(notices, "\n")
	mu.Unlock()
	if !strings.Contains(logged, "connection table: 1048576 slots") || !strings.Contains(logged, "RLIMIT_NOFILE soft limit 1000000000") {
		t.Fatalf("startup NOTICE does not report the capped table and the limit:\n%s", logged)
	}

	// It serves: an HTTP request gets its 404.
	c, err := net.DialTimeout("tcp", svc.Addr().String(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, _ := io.ReadAll(c)
	if !strings.HasPrefix(string(resp), "HTTP/1.1 404") {
		t.Fatalf("response %q", resp)
	}
}
