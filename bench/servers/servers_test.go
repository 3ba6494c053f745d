package servers

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lws-go/lws/wsproto"
)

// serverBin is cmd/bench-server, built once by TestMain. The tests run
// each server in a process of its own, as the benchmarks do: the peers'
// own code is not ours to run under our race detector.
var serverBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "servers-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	serverBin = filepath.Join(dir, "bench-server")
	if out, err := exec.Command("go", "build", "-o", serverBin, "../cmd/bench-server").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building bench-server: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// startProcess runs a server as a process and returns its address.
func startProcess(t *testing.T, name string, broadcast bool) string {
	t.Helper()
	args := []string{"-server", name, "-addr", "127.0.0.1:0"}
	if broadcast {
		args = append(args, "-broadcast")
	}
	cmd := exec.Command(serverBin, args...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "ready "); ok {
				addr <- a
			}
		}
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	select {
	case a := <-addr:
		return a
	case <-exited:
		t.Fatalf("%s exited before it was ready", name)
	case <-time.After(30 * time.Second):
		t.Fatalf("%s not ready in 30s", name)
	}
	return ""
}

// client is a raw test client: a TCP connection, upgraded unless the
// server is a raw floor, that allocates nothing per message.
type client struct {
	net.Conn
	raw    bool
	parser wsproto.Parser
	buf    []byte // received, not yet parsed: buf[off:]
	off    int
}

func dialServer(tb testing.TB, name, addr string) *client {
	tb.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(time.Minute))
	cl := &client{Conn: c, raw: strings.HasPrefix(name, "raw-"), buf: make([]byte, 0, 64<<10)}
	cl.parser.Init(wsproto.ParserConfig{Role: wsproto.RoleClient})
	if cl.raw {
		return cl
	}
	req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		tb.Fatal(err)
	}
	// Read the response head byte by byte so nothing after it is lost.
	var head []byte
	b := make([]byte, 1)
	for !bytes.HasSuffix(head, []byte("\r\n\r\n")) {
		if _, err := io.ReadFull(c, b); err != nil {
			tb.Fatalf("%s: reading the handshake response: %v (got %q)", name, err, head)
		}
		head = append(head, b[0])
	}
	if !bytes.HasPrefix(head, []byte("HTTP/1.1 101")) {
		tb.Fatalf("%s: handshake refused: %q", name, head)
	}
	return cl
}

// request is payload as the client sends it.
func (c *client) request(payload []byte) []byte {
	if c.raw {
		return payload
	}
	return wsproto.AppendFrame(nil, wsproto.Header{Fin: true, Opcode: wsproto.OpBinary, Masked: true, Mask: [4]byte{1, 2, 3, 4}}, payload)
}

// readMessage reads the next message into dst (whose length is the
// message size the caller expects); a server may fragment it.
func (c *client) readMessage(dst []byte) error {
	got := 0
	for {
		if c.off == len(c.buf) {
			n, err := c.Read(c.buf[:cap(c.buf)])
			if err != nil {
				return err
			}
			c.buf, c.off = c.buf[:n], 0
		}
		if c.raw {
			k := copy(dst[got:], c.buf[c.off:])
			c.off += k
			if got += k; got == len(dst) {
				return nil
			}
			continue
		}
		ev, n, err := c.parser.Next(c.buf[c.off:])
		if err != nil {
			return err
		}
		c.off += n
		if ev.Type != wsproto.EventData {
			continue
		}
		if got+len(ev.Payload) > len(dst) {
			return fmt.Errorf("message longer than %d bytes", len(dst))
		}
		got += copy(dst[got:], ev.Payload)
		if ev.MessageEnd {
			if got != len(dst) {
				return fmt.Errorf("message of %d bytes, want %d", got, len(dst))
			}
			return nil
		}
	}
}

func startServer(tb testing.TB, name string, o Options) Server {
	tb.Helper()
	s, err := Start(name, o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func payloadOf(size int) []byte { return bytes.Repeat([]byte{'x'}, size) }

// TestEcho checks every Go server echoes small and large messages, several
// in flight, byte for byte.
func TestEcho(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			c := dialServer(t, name, startProcess(t, name, false))
			for _, size := range []int{32, 16 << 10} {
				payload := payloadOf(size)
				payload[0] = 'y'
				if _, err := c.Write(bytes.Repeat(c.request(payload), 4)); err != nil {
					t.Fatal(err)
				}
				reply := make([]byte, size)
				for i := 0; i < 4; i++ {
					if err := c.readMessage(reply); err != nil {
						t.Fatalf("%d-byte echo %d: %v", size, i, err)
					}
					if !bytes.Equal(reply, payload) {
						t.Fatalf("%d-byte echo %d differs", size, i)
					}
				}
			}
		})
	}
}

// TestBroadcast checks every Go server sends a 'B' message to the other
// connections.
func TestBroadcast(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			addr := startProcess(t, name, true)
			var rcv []*client
			for i := 0; i < 3; i++ {
				rcv = append(rcv, dialServer(t, name, addr))
			}
			sender := dialServer(t, name, addr)
			// The servers register a connection after its handshake: send
			// until a round reaches every receiver.
			payload := payloadOf(32)
			payload[0] = 'B'
			for seq := uint64(1); ; seq++ {
				binary.BigEndian.PutUint64(payload[1:9], seq)
				if _, err := sender.Write(sender.request(payload)); err != nil {
					t.Fatal(err)
				}
				all := true
				for _, r := range rcv {
					if !receiveRound(t, r, seq) {
						all = false
					}
				}
				if all {
					return
				}
				if seq == 50 {
					t.Fatal("no broadcast reached every receiver in 50 rounds")
				}
			}
		})
	}
}

// receiveRound reads the broadcasts r has (waiting up to 200ms for more)
// and reports whether one of them is round seq.
func receiveRound(t *testing.T, r *client, seq uint64) bool {
	msg := make([]byte, 32)
	for {
		r.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if err := r.readMessage(msg); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return false
			}
			t.Fatal(err)
		}
		if binary.BigEndian.Uint64(msg[1:9]) == seq {
			r.SetReadDeadline(time.Now().Add(time.Minute))
			return true
		}
	}
}

// BenchmarkEcho measures one echo round trip per op on every Go server,
// in process (so testing counts the server's allocations), with a client that allocates nothing: allocs/op are the
// server's allocations per message.
func BenchmarkEcho(b *testing.B) {
	for _, name := range Names() {
		for _, size := range []int{32, 16 << 10} {
			b.Run(fmt.Sprintf("%s/%dB", name, size), func(b *testing.B) {
				s := startServer(b, name, Options{})
				c := dialServer(b, name, s.Addr())
				req := c.request(payloadOf(size))
				reply := make([]byte, size)
				roundTrip := func() {
					if _, err := c.Write(req); err != nil {
						b.Fatal(err)
					}
					if err := c.readMessage(reply); err != nil {
						b.Fatal(err)
					}
				}
				for i := 0; i < 100; i++ { // warm up pools and buffers
					roundTrip()
				}
				c.SetDeadline(time.Now().Add(10 * time.Minute))
				b.ReportAllocs()
				b.SetBytes(int64(size))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					roundTrip()
				}
			})
		}
	}
}
