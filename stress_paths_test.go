//go:build linux

package lws_test

// Targeted tests of input paths the stress test reaches only by chance.

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"golang.org/x/sys/unix"
)

// A connection whose reading is both paused by the user (PauseRx) and
// held by the library (output backed up) reads again only once both have
// ended, whichever ends first, and then in order; OnReceive never runs
// while PauseRx is in effect.
func TestPauseRxAndOutputHoldInterleaved(t *testing.T) {
	fdBackendOnly(t, "a small SO_SNDBUF set on Conn.FD")
	for _, userFirst := range []bool{true, false} {
		name := "hold ends first"
		if userFirst {
			name = "ResumeRx first"
		}
		t.Run(name, func(t *testing.T) {
			const limit, big, count = 256 << 10, 200 << 10, 50
			var conn atomic.Pointer[lws.Conn]
			filled := make(chan struct{})
			errs := make(chan error, count+1)
			next := 0
			p := &lws.Protocol{
				Name: "p",
				OnEstablished: func(c *lws.Conn) {
					unix.SetsockoptInt(c.FD(), unix.SOL_SOCKET, unix.SO_SNDBUF, 4096)
					conn.Store(c)
				},
				OnReceive: func(c *lws.Conn, data []byte) {
					if c.RxPaused() {
						errs <- fmt.Errorf("OnReceive(%q) while PauseRx is in effect", data)
					}
					if string(data) == "fill" {
						c.Write(make([]byte, big), lws.WriteBinary)
						close(filled)
						return
					}
					if want := fmt.Sprintf("message %d", next); string(data) != want {
						errs <- fmt.Errorf("received %q, want %q", data, want)
					}
					if next++; next == count {
						c.Write([]byte("done"), lws.WriteText)
					}
				},
			}
			svc := startService(t, lws.Config{Protocols: []*lws.Protocol{p}, Limits: lws.Limits{WriteBufferSize: limit}})
			rc, err := dialPath(svc, "p", "/", 4096)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			onLoop := func(f func(c *lws.Conn)) {
				done := make(chan struct{})
				c := conn.Load()
				c.Post(func() {
					f(c)
					close(done)
				})
				<-done
			}
			rc.Write(frame(0x81, key1, []byte("fill")))
			<-filled
			onLoop(func(c *lws.Conn) {
				if b := c.Buffered(); b <= limit/2 {
					t.Errorf("%d bytes wait unsent, not more than half of %d: reading is not held", b, limit)
				}
				c.PauseRx()
			})
			for i := range count {
				rc.Write(frame(0x81, key1, []byte(fmt.Sprintf("message %d", i))))
			}
			readBig := func() {
				rc.SetReadDeadline(time.Now().Add(10 * time.Second))
				if _, err := rc.r.Discard(4 + big); err != nil {
					t.Fatalf("reading the big reply: %v", err)
				}
			}
			if userFirst {
				onLoop(func(c *lws.Conn) { c.ResumeRx() }) // still held
				readBig()                                  // the hold ends
			} else {
				readBig()                                  // the hold ends; still paused
				onLoop(func(c *lws.Conn) { c.ResumeRx() }) // reading resumes
			}
			for {
				op, _, payload, err := rc.nextFrame(10 * time.Second)
				if err != nil {
					t.Fatalf("waiting for the end: %v (%d of %d messages received)", err, len(errs), count)
				}
				if op == 1 && string(payload) == "done" {
					break
				}
			}
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}
