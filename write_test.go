//go:build unix

package lws_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"golang.org/x/sys/unix"
)

// Large frames leave straight from the caller's slice in one writev with
// whatever is queued before them (conn_write.go writeDirect); what the
// socket does not take is queued. Messages of sizes either side of that
// threshold, pipelined by a client that reads only once it has sent half,
// so the server's socket fills and writes are partial, must come back
// whole and in order.
func TestLargeAndSmallWritesKeepOrder(t *testing.T) {
	svc := startService(t, lws.Config{
		Protocols: []*lws.Protocol{wholeEcho("echo")},
		Limits:    lws.Limits{WriteBufferSize: 8 << 20},
	})
	// A small receive buffer, so the server's socket fills while we are
	// not reading.
	d := net.Dialer{Timeout: 10 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 16<<10) })
		return errors.Join(err, serr)
	}}
	nc, err := d.Dial("tcp", svc.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	c := handshakeWS(t, nc, "/", "echo", nil)
	// Each round starts with a message bigger than the socket buffers: its
	// writev is partial.
	sizes := []int{1 << 20, 10, 3000, 100, 70000, 2048, 2047, 5, 200000, 0, 16 << 10}
	const rounds = 8
	var msgs [][]byte
	for r := 0; r < rounds; r++ {
		for i, n := range sizes {
			m := bytes.Repeat([]byte{byte(r*len(sizes) + i)}, n)
			if n > 0 {
				copy(m, fmt.Sprintf("%d/%d", r, i))
			}
			msgs = append(msgs, m)
		}
	}
	half := make(chan struct{})
	werr := make(chan error, 1)
	go func() {
		for i, m := range msgs {
			if _, err := c.Write(frame(0x82, key1, m)); err != nil {
				werr <- fmt.Errorf("writing message %d: %v", i, err)
				return
			}
			if i == len(msgs)/2 {
				close(half)
			}
		}
		werr <- nil
	}()
	<-half
	for i, want := range msgs {
		f, err := c.readFrame(t)
		if err != nil {
			t.Fatalf("reading echo %d of %d: %v", i, len(msgs), err)
		}
		if f.op != 2 || !f.fin || !bytes.Equal(f.payload, want) {
			t.Fatalf("echo %d: op %d fin %v, %d bytes starting %q; want binary, %d bytes starting %q",
				i, f.op, f.fin, len(f.payload), f.payload[:min(len(f.payload), 12)], len(want), want[:min(len(want), 12)])
		}
	}
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
}
