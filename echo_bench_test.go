package lws_test

import (
	"bytes"
	"io"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/lws-go/lws"
)

// echoRoundTrip sends one masked frame and reads the echo.
func echoRoundTrip(tb testing.TB, c *rawConn, req, resp []byte) {
	if _, err := c.Write(req); err != nil {
		tb.Fatal(err)
	}
	if _, err := io.ReadFull(c.r, resp); err != nil {
		tb.Fatal(err)
	}
}

func echoFixture(tb testing.TB, size int, reassemble bool) (c *rawConn, req, resp []byte) {
	p := echoProtocol("echo")
	p.Reassemble = reassemble
	svc := startService(tb, lws.Config{Protocols: []*lws.Protocol{p}})
	c = dialWS(tb, svc, "")
	payload := bytes.Repeat([]byte("x"), size)
	req = frame(0x82, key1, payload)
	hdr := 2
	switch {
	case size >= 65536:
		hdr = 10
	case size >= 126:
		hdr = 4
	}
	resp = make([]byte, hdr+size)
	echoRoundTrip(tb, c, req, resp) // warm up buffers and pools
	if !bytes.Equal(resp[hdr:], payload) {
		tb.Fatalf("echo mismatch")
	}
	return c, req, resp
}

// BenchmarkServerEcho measures the server echo path on loopback: read,
// parse, unmask, callback, frame, write. The client side is a raw socket
// that allocates nothing, so allocs/op is the server's.
func BenchmarkServerEcho(b *testing.B) {
	for _, size := range []int{16, 1024} {
		b.Run(byteSize(size), func(b *testing.B) {
			c, req, resp := echoFixture(b, size, false)
			b.ReportAllocs()
			b.SetBytes(int64(size))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				echoRoundTrip(b, c, req, resp)
			}
		})
	}
}

// TestServerEchoAllocatesNothing asserts the echo path's steady state makes
// no heap allocation per message (the whole process is counted, the
// service loop included).
func TestServerEchoAllocatesNothing(t *testing.T) {
	fdBackendOnly(t, "no allocation per message")
	if raceEnabled {
		t.Skip("the race detector's instrumentation allocates; this runs in the non-race pass of make test")
	}
	for _, tc := range []struct {
		size       int
		reassemble bool
	}{{16, false}, {1024, false}, {16, true}, {1024, true}, {200000, true}} {
		c, req, resp := echoFixture(t, tc.size, tc.reassemble)
		c.SetDeadline(time.Now().Add(time.Minute))
		allocs := testing.AllocsPerRun(500, func() { echoRoundTrip(t, c, req, resp) })
		if allocs != 0 {
			t.Errorf("%d-byte echo (reassemble %v): %.2f allocations per message, want 0", tc.size, tc.reassemble, allocs)
		}
	}
}

// TestIdleConnectionsHoldNoGoroutine opens connections and checks the
// goroutine count does not grow with them.
func TestIdleConnectionsHoldNoGoroutine(t *testing.T) {
	fdBackendOnly(t, "no goroutine per connection")
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{echoProtocol("echo")}})
	dialWS(t, svc, "") // the service is up and has served one
	before := runtime.NumGoroutine()
	for i := 0; i < 200; i++ {
		dialWS(t, svc, "")
	}
	if after := runtime.NumGoroutine(); after > before+2 {
		t.Fatalf("goroutines grew from %d to %d for 200 idle connections", before, after)
	}
	if n := svc.Connections(); n != 201 {
		t.Fatalf("service counts %d connections, want 201", n)
	}
}

func byteSize(n int) string {
	if n >= 1024 {
		return strconv.Itoa(n/1024) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}
