package lws_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/internal/sockio"
)

// blackhole returns the address of a listening socket whose accept queue
// is full and never served: a connect to it hangs (the SYN is dropped).
func blackhole(t *testing.T) string {
	t.Helper()
	fd, local, err := sockio.ListenTCP(netip.MustParseAddrPort("127.0.0.1:0"), 0, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sockio.Close(fd) })
	addr := local.String()
	// Fill the accept queue until a connect no longer completes.
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			break
		}
		t.Cleanup(func() { c.Close() })
		if i > 64 {
			t.Fatal("could not fill the accept queue of the blackhole listener")
		}
	}
	return addr
}

// TestDialCancelDuringConnect cancels a Dial whose TCP connect hangs: it
// returns the context's error, the connection leaves the service at once
// (and TestMain finds no goroutine left).
func TestDialCancelDuringConnect(t *testing.T) {
	addr := blackhole(t)
	svc := startClientService(t)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := lws.Dial(ctx, "ws://"+addr+"/", &lws.DialOptions{Service: svc})
		errc <- err
	}()
	waitCond(t, "the connect in progress", func() bool { return svc.Connections() == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Dial returned %v, want context.Canceled", err)
	}
	waitCond(t, "the connection gone", func() bool { return svc.Connections() == 0 })

	// The same with a deadline, on the shared service.
	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := lws.Dial(ctx, "ws://"+addr+"/", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial returned %v, want context.DeadlineExceeded", err)
	}
}

// TestDialCancelDuringHandshake cancels a Dial whose server accepted and
// read the request but never answers: Dial returns the context's error and
// the server sees the connection closed.
func TestDialCancelDuringHandshake(t *testing.T) {
	gotRequest := make(chan struct{})
	closed := make(chan error, 1)
	addr := rawServer(t, func(c net.Conn, r *bufio.Reader, req *http.Request) {
		close(gotRequest)
		_, err := r.ReadByte()
		closed <- err
	})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := lws.Dial(ctx, "ws://"+addr+"/", nil)
		errc <- err
	}()
	<-gotRequest
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Dial returned %v, want context.Canceled", err)
	}
	if err := <-closed; err != io.EOF {
		t.Fatalf("server read %v, want EOF: the client must close the abandoned connection", err)
	}
}

// TestDialContextOnReadAndWrite: a ReadMessage whose context ends returns
// its error and leaves the connection usable; a WriteMessage waiting for a
// server that stopped reading gives up when its context ends, and the
// message it gave up is never sent while the ones before and after arrive
// whole and in order.
func TestDialContextOnReadAndWrite(t *testing.T) {
	type rxLog struct {
		sync.Mutex
		idx  []uint64
		conn *lws.Conn
	}
	var log rxLog
	proto := &lws.Protocol{
		Name:       "sink",
		Reassemble: true,
		OnEstablished: func(c *lws.Conn) {
			log.Lock()
			log.conn = c
			log.Unlock()
			c.PauseRx()
		},
		OnReceive: func(c *lws.Conn, msg []byte) {
			log.Lock()
			log.idx = append(log.idx, binary.BigEndian.Uint64(msg))
			log.Unlock()
			if len(msg) == 8 {
				c.Write(msg, lws.WriteBinary) // the last message: tell the client
			}
		},
	}
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{proto}})
	cc := mustDial(t, wsURL(svc, "/"), nil)

	rctx, rcancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer rcancel()
	if _, _, err := cc.ReadMessage(rctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReadMessage: %v, want DeadlineExceeded", err)
	}

	msg := make([]byte, 1<<20)
	sent := uint64(0)
	for {
		binary.BigEndian.PutUint64(msg, sent)
		wctx, wcancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		err := cc.WriteMessage(wctx, lws.WriteBinary, msg)
		wcancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatalf("write %d: %v", sent, err)
		}
		if sent++; sent > 1000 {
			t.Fatal("1000 MiB written to a server that does not read")
		}
	}
	t.Logf("%d MiB taken before WriteMessage waited", sent)
	// The abandoned message's buffer is the caller's again: scribble on it.
	for i := range msg {
		msg[i] = 0xee
	}
	svcPost(t, svc, func() { log.conn.ResumeRx() })
	last := binary.BigEndian.AppendUint64(nil, sent)
	if err := cc.WriteMessage(testCtx(t), lws.WriteBinary, last); err != nil {
		t.Fatal(err)
	}
	if _, got, err := cc.ReadMessage(testCtx(t)); err != nil || string(got) != string(last) {
		t.Fatalf("waiting for the server to get the last message: %q %v", got, err)
	}
	log.Lock()
	defer log.Unlock()
	if uint64(len(log.idx)) != sent+1 {
		t.Fatalf("server got %d messages, want %d (the abandoned one must not be sent)", len(log.idx), sent+1)
	}
	for i, v := range log.idx {
		if v != uint64(i) {
			t.Fatalf("server message %d has index %d", i, v)
		}
	}
}
