//go:build unix

package lws_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/wsproto"
)

// The hostile-client suite: raw TCP clients misbehave in every way a
// server on the open internet meets, each case in its own parallel
// subtest, while 20 well-behaved echo clients are served throughout. The
// limits are short so the whole suite runs in seconds.
const (
	hostileHandshakeTimeout = 2 * time.Second
	hostilePingInterval     = 500 * time.Millisecond
	hostilePongTimeout      = time.Second
	hostileStallTimeout     = time.Second
	hostileCloseTimeout     = time.Second
	hostileWriteBuffer      = 256 << 10
	hostileMaxMessage       = 1 << 20
	hostileGoodClients      = 20

	// The most a connection's output queue may exceed the write buffer
	// limit by before reading stops: one readiness event reads at most 8
	// times 64 KiB (conn_read.go), and what it reads is answered before
	// the backpressure check.
	hostileReadBurst = 8 * 64 << 10
)

// hostileTracker records the server side of every WebSocket connection by the
// client's port.
type hostileTracker struct {
	mu     sync.Mutex
	open   map[uint16]*lws.Conn
	closed map[uint16]closedConn
}

type closedConn struct {
	code   wsproto.CloseCode
	reason string
	at     time.Time
}

func newHostileTracker() *hostileTracker {
	return &hostileTracker{open: map[uint16]*lws.Conn{}, closed: map[uint16]closedConn{}}
}

// track wraps p's OnEstablished and OnClosed to record its connections.
func (tr *hostileTracker) track(p *lws.Protocol) *lws.Protocol {
	est, cl := p.OnEstablished, p.OnClosed
	p.OnEstablished = func(c *lws.Conn) {
		tr.mu.Lock()
		tr.open[c.RemoteAddr().Port()] = c
		tr.mu.Unlock()
		if est != nil {
			est(c)
		}
	}
	p.OnClosed = func(c *lws.Conn, code wsproto.CloseCode, reason string) {
		tr.mu.Lock()
		tr.closed[c.RemoteAddr().Port()] = closedConn{code: code, reason: reason, at: time.Now()}
		tr.mu.Unlock()
		if cl != nil {
			cl(c, code, reason)
		}
	}
	return p
}

// conn is the server side of the connection whose client port is port.
func (tr *hostileTracker) conn(t testing.TB, port uint16) *lws.Conn {
	t.Helper()
	var c *lws.Conn
	waitCond(t, fmt.Sprintf("connection from port %d established", port), func() bool {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		c = tr.open[port]
		return c != nil
	})
	return c
}

// waitClosed waits until the server reported the connection closed.
func (tr *hostileTracker) waitClosed(t testing.TB, port uint16) closedConn {
	t.Helper()
	var cc closedConn
	waitCond(t, fmt.Sprintf("server closes the connection from port %d", port), func() bool {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		var ok bool
		cc, ok = tr.closed[port]
		return ok
	})
	return cc
}

func localPort(c net.Conn) uint16 { return uint16(c.LocalAddr().(*net.TCPAddr).Port) }

// hostileServer is the service under attack with what the cases need.
type hostileServer struct {
	svc    *lws.Service
	tr     *hostileTracker
	index  []byte // content of /index.html
	secret []byte // content of a file outside the document root
}

func startHostileServer(t *testing.T) *hostileServer {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	h := &hostileServer{
		tr:     newHostileTracker(),
		index:  []byte("<html>hostile test index</html>\n"),
		secret: []byte(fmt.Sprintf("TOP-SECRET-%x\n", rand.Uint64())),
	}
	for _, err := range []error{
		os.MkdirAll(filepath.Join(root, "sub"), 0o755),
		os.WriteFile(filepath.Join(root, "index.html"), h.index, 0o644),
		os.WriteFile(filepath.Join(dir, "secret.txt"), h.secret, 0o644),
		os.Symlink("../secret.txt", filepath.Join(root, "escape.txt")),
		os.Symlink("..", filepath.Join(root, "up")),
		os.Symlink("/etc", filepath.Join(root, "etc")),
		syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}

	chunk := bytes.Repeat([]byte{0xAB}, 16<<10)
	fill := func(c *lws.Conn) {
		for c.Write(chunk, lws.WriteBinary) == nil {
		}
		c.RequestWriteable()
	}
	firehose := &lws.Protocol{
		Name: "firehose",
		// Its client sends nothing; what ends it must be the write-stall
		// limit, not the keepalive.
		PingInterval:  -1,
		OnEstablished: fill,
		OnWriteable:   fill,
	}
	// The keepalive interval is short only for the connection that tests
	// it: under a loaded machine a well-behaved client may well sit silent
	// for a second.
	silent := wholeEcho("silent")
	silent.PingInterval = hostilePingInterval
	h.svc = startService(t, lws.Config{
		Protocols:    []*lws.Protocol{h.tr.track(wholeEcho("echo")), h.tr.track(silent), h.tr.track(firehose)},
		DocumentRoot: root,
		Limits: lws.Limits{
			HandshakeTimeout:  hostileHandshakeTimeout,
			MaxMessageSize:    hostileMaxMessage,
			WriteBufferSize:   hostileWriteBuffer,
			CloseTimeout:      hostileCloseTimeout,
			PongTimeout:       hostilePongTimeout,
			WriteStallTimeout: hostileStallTimeout,
		},
	})
	return h
}

// dial opens a raw TCP connection to the server, closed when t ends.
func (h *hostileServer) dial(t *testing.T) *net.TCPConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", h.svc.Addr().String(), 10*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

// readUntilGone reads and discards until the server ends the connection
// (EOF or reset) and returns how many bytes came; it fails the test when
// the connection stays up for the generous timeout.
func readUntilGone(t *testing.T, c net.Conn, r io.Reader) int64 {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	n, err := io.Copy(io.Discard, r)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("waiting for the server to end the connection (%d bytes read): %v", n, err)
	}
	return n
}

// writeAll writes b completely, retrying after write timeouts until stop
// is closed; it returns the first other error.
func writeAll(c net.Conn, b []byte, stop <-chan struct{}) error {
	for len(b) > 0 {
		c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		n, err := c.Write(b)
		b = b[n:]
		if err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				return err
			}
		}
		select {
		case <-stop:
			return errors.New("stopped")
		default:
		}
	}
	return nil
}

// maxBuffered samples c.Buffered on its loop until stop is closed and
// returns the largest value seen.
func maxBuffered(svc *lws.Service, c *lws.Conn, stop <-chan struct{}) <-chan int {
	out := make(chan int, 1)
	go func() {
		peak := 0
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			done := make(chan int, 1)
			if svc.Post(func() { done <- c.Buffered() }) != nil {
				break
			}
			peak = max(peak, <-done)
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
		}
		out <- peak
	}()
	return out
}

func readStatus(t *testing.T, c net.Conn, r *bufio.Reader) (int, []byte) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the response body: %v", err)
	}
	return resp.StatusCode, body
}

// wantClosed checks the server's record of a closed WebSocket.
func (h *hostileServer) wantClosed(t *testing.T, port uint16, code wsproto.CloseCode, reason string, t0 time.Time) closedConn {
	t.Helper()
	cc := h.tr.waitClosed(t, port)
	if cc.code != code || (reason != "" && cc.reason != reason) {
		t.Errorf("server closed with %d %q, want %d %q", cc.code, cc.reason, code, reason)
	}
	t.Logf("server closed with %d %q after %v", cc.code, cc.reason, cc.at.Sub(t0).Round(time.Millisecond))
	return cc
}

var hostileCases = []struct {
	name string
	run  func(t *testing.T, h *hostileServer)
}{
	{"garbage instead of HTTP", func(t *testing.T, h *hostileServer) {
		c := h.dial(t)
		c.Write([]byte("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\xde\xad\xbe\xef garbage\r\n\r\n"))
		r := bufio.NewReader(c)
		if status, _ := readStatus(t, c, r); status != 400 {
			t.Errorf("status %d, want 400", status)
		}
		readUntilGone(t, c, r)
	}},
	{"endless header", func(t *testing.T, h *hostileServer) {
		c := h.dial(t)
		stop := make(chan struct{})
		wrote := make(chan int64, 1)
		go func() {
			n := int64(0)
			line := "GET / HTTP/1.1\r\nHost: localhost\r\nX-Endless: "
			for n < 1<<20 {
				if writeAll(c, []byte(line), stop) != nil {
					break
				}
				n += int64(len(line))
				line = strings.Repeat("a", 4096)
			}
			wrote <- n
		}()
		r := bufio.NewReader(c)
		status, _ := readStatus(t, c, r)
		close(stop)
		if status != 431 {
			t.Errorf("status %d, want 431", status)
		}
		readUntilGone(t, c, r)
		t.Logf("client wrote %d header bytes before giving up", <-wrote)
	}},
	{"handshake trickled a byte at a time", func(t *testing.T, h *hostileServer) {
		t0 := time.Now()
		c := h.dial(t)
		stop := make(chan struct{})
		defer close(stop)
		var sent atomic.Int64
		go func() {
			req := "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
			tick := time.NewTicker(hostileHandshakeTimeout / 5)
			defer tick.Stop()
			for i := 0; i < len(req); i++ {
				if _, err := c.Write([]byte{req[i]}); err != nil {
					return
				}
				sent.Add(1)
				select {
				case <-stop:
					return
				case <-tick.C:
				}
			}
		}()
		n := readUntilGone(t, c, c)
		elapsed := time.Since(t0)
		if n != 0 {
			t.Errorf("server sent %d bytes to a handshake that never completed", n)
		}
		if elapsed < hostileHandshakeTimeout {
			t.Errorf("closed after %v, before the handshake timeout %v", elapsed, hostileHandshakeTimeout)
		}
		t.Logf("closed after %v (handshake timeout %v), %d bytes trickled", elapsed.Round(time.Millisecond), hostileHandshakeTimeout, sent.Load())
	}},
	{"valid handshake then silence", func(t *testing.T, h *hostileServer) {
		t0 := time.Now()
		rc := dialWS(t, h.svc, "silent")
		port := localPort(rc)
		f, err := rc.readFrame(t)
		if err != nil || f.op != 0x9 {
			t.Fatalf("want the keepalive PING, got %v %v", f, err)
		}
		if d := time.Since(t0); d < hostilePingInterval {
			t.Errorf("PING after %v, before the ping interval %v", d, hostilePingInterval)
		}
		readUntilGone(t, rc, rc.r)
		cc := h.wantClosed(t, port, wsproto.CloseAbnormal, "keepalive timeout", t0)
		if d := cc.at.Sub(t0); d < hostilePingInterval+hostilePongTimeout {
			t.Errorf("dropped after %v, before ping interval + pong timeout", d)
		}
	}},
	{"frame length 2^63-1", func(t *testing.T, h *hostileServer) {
		t0 := time.Now()
		rc := dialWS(t, h.svc, "echo")
		hdr := []byte{0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}
		rc.Write(append(append(hdr, key1[:]...), "some payload"...))
		if code, _ := rc.expectClose(t); code != 1009 {
			t.Errorf("close code %d, want 1009", code)
		}
		h.wantClosed(t, localPort(rc), 1009, "", t0)
	}},
	{"100 MiB frame announced and trickled", func(t *testing.T, h *hostileServer) {
		t0 := time.Now()
		rc := dialWS(t, h.svc, "echo")
		hdr := binary.BigEndian.AppendUint64([]byte{0x82, 0xFF}, 100<<20)
		rc.Write(append(hdr, key1[:]...))
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for {
				if _, err := rc.Write([]byte{'x'}); err != nil {
					return
				}
				select {
				case <-stop:
					return
				case <-tick.C:
				}
			}
		}()
		if code, _ := rc.expectClose(t); code != 1009 {
			t.Errorf("close code %d, want 1009", code)
		}
		h.wantClosed(t, localPort(rc), 1009, "", t0)
	}},
	{"100 MiB message in 64 KiB fragments", func(t *testing.T, h *hostileServer) {
		t0 := time.Now()
		rc := dialWS(t, h.svc, "echo")
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			piece := make([]byte, 64<<10)
			for i := 0; i < 1600; i++ {
				b0 := byte(0x00)
				if i == 0 {
					b0 = 0x02
				}
				if writeAll(rc, frame(b0, key1, piece), stop) != nil {
					return
				}
			}
		}()
		if code, _ := rc.expectClose(t); code != 1009 {
			t.Errorf("close code %d, want 1009", code)
		}
		h.wantClosed(t, localPort(rc), 1009, "", t0)
	}},
	{"100,000 empty fragments", func(t *testing.T, h *hostileServer) {
		t0 := time.Now()
		rc := dialWS(t, h.svc, "echo")
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			var batch []byte
			for i := 0; i < 100000; i++ {
				b0 := byte(0x00)
				if i == 0 {
					b0 = 0x02
				}
				batch = append(batch, frame(b0, key1, nil)...)
				if len(batch) >= 64<<10 || i == 99999 {
					if writeAll(rc, batch, stop) != nil {
						return
					}
					batch = batch[:0]
				}
			}
		}()
		if code, _ := rc.expectClose(t); code != 1009 {
			t.Errorf("close code %d, want 1009", code)
		}
		h.wantClosed(t, localPort(rc), 1009, "", t0)
	}},
	{"pings flooded without reading the pongs", func(t *testing.T, h *hostileServer) {
		t0 := time.Now()
		rc := dialWS(t, h.svc, "echo")
		port := localPort(rc)
		sc := h.tr.conn(t, port)
		stop := make(chan struct{})
		peak := maxBuffered(h.svc, sc, stop)
		var sent atomic.Int64
		go func() {
			var batch []byte
			payload := bytes.Repeat([]byte{'p'}, 125)
			for i := 0; i < 100; i++ {
				batch = append(batch, frame(0x89, key1, payload)...)
			}
			for writeAll(rc, batch, stop) == nil {
				sent.Add(int64(len(batch)))
			}
		}()
		h.wantClosed(t, port, 1008, "write stalled", t0)
		close(stop)
		p := <-peak
		t.Logf("client sent %d bytes of PINGs; the server's queue peaked at %d bytes (limit %d)", sent.Load(), p, hostileWriteBuffer)
		if p > hostileWriteBuffer+hostileReadBurst {
			t.Errorf("output queue grew to %d bytes, over the write buffer limit %d plus one read burst", p, hostileWriteBuffer)
		}
	}},
	{"client never reads while the server sends", func(t *testing.T, h *hostileServer) {
		t0 := time.Now()
		rc := dialWS(t, h.svc, "firehose")
		port := localPort(rc)
		sc := h.tr.conn(t, port)
		stop := make(chan struct{})
		peak := maxBuffered(h.svc, sc, stop)
		h.wantClosed(t, port, 1008, "write stalled", t0)
		close(stop)
		p := <-peak
		t.Logf("the server's queue peaked at %d bytes (limit %d)", p, hostileWriteBuffer)
		if p > hostileWriteBuffer {
			t.Errorf("output queue grew to %d bytes, over the write buffer limit %d", p, hostileWriteBuffer)
		}
	}},
	{"half-closed WebSocket", func(t *testing.T, h *hostileServer) {
		t0 := time.Now()
		rc := dialWS(t, h.svc, "echo")
		rc.Conn.(*net.TCPConn).CloseWrite()
		readUntilGone(t, rc, rc.r)
		h.wantClosed(t, localPort(rc), wsproto.CloseAbnormal, "", t0)
	}},
	{"half-closed HTTP request", func(t *testing.T, h *hostileServer) {
		c := h.dial(t)
		c.Write([]byte("GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n"))
		c.CloseWrite()
		r := bufio.NewReader(c)
		status, body := readStatus(t, c, r)
		if status != 200 || !bytes.Equal(body, h.index) {
			t.Errorf("status %d body %q, want 200 %q", status, body, h.index)
		}
		readUntilGone(t, c, r)
	}},
	{"RST in the middle of a frame", func(t *testing.T, h *hostileServer) {
		t0 := time.Now()
		rc := dialWS(t, h.svc, "echo")
		port := localPort(rc)
		h.tr.conn(t, port)
		whole := frame(0x82, key1, make([]byte, 1000))
		rc.Write(whole[:100])
		tc := rc.Conn.(*net.TCPConn)
		tc.SetLinger(0)
		tc.Close()
		h.wantClosed(t, port, wsproto.CloseAbnormal, "", t0)
	}},
	{"path traversal", func(t *testing.T, h *hostileServer) {
		for _, target := range []string{
			"/../secret.txt",
			"/%2e%2e/secret.txt",
			"/%2E%2E/secret.txt",
			"/.%2e/secret.txt",
			"/..%2fsecret.txt",
			"/..%2Fsecret.txt",
			"/..%5csecret.txt",
			"/sub/../../secret.txt",
			"/sub/%2e%2e/%2e%2e/secret.txt",
			"/./../secret.txt",
			"//../secret.txt",
			"http://localhost/../secret.txt",
			"/escape.txt",
			"/up/secret.txt",
			"/etc/passwd",
			"/%2fetc%2fpasswd",
			"/%00secret.txt",
			"/index.html%00.txt",
			"/fifo",
			"/sub/",
		} {
			c := h.dial(t)
			fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", target)
			r := bufio.NewReader(c)
			status, body := readStatus(t, c, r)
			if status != 400 && status != 403 && status != 404 {
				t.Errorf("GET %s: status %d, want 400, 403 or 404", target, status)
			}
			if bytes.Contains(body, h.secret) || bytes.Contains(body, []byte("root:")) {
				t.Errorf("GET %s: the body leaks a file outside the root: %q", target, body)
			}
			readUntilGone(t, c, r)
			t.Logf("GET %s: %d", target, status)
		}
		c := h.dial(t)
		c.Write([]byte("GET /index.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
		if status, body := readStatus(t, c, bufio.NewReader(c)); status != 200 || !bytes.Equal(body, h.index) {
			t.Errorf("GET /index.html: %d %q, want 200 %q", status, body, h.index)
		}
	}},
}

// goodClient echoes messages of random size and type and checks each
// comes back intact, until stopped.
type goodClient struct {
	rc     *rawConn
	done   atomic.Int64 // round trips completed
	failed atomic.Bool
	err    error // read after run returned
}

func (g *goodClient) run(t *testing.T, id int, stop <-chan struct{}) {
	defer func() { g.failed.Store(g.err != nil) }()
	rng := rand.New(rand.NewPCG(uint64(id), 7))
	key := [4]byte{byte(id), 0x5a, 0xa5, 0x11}
	for seq := 0; ; seq++ {
		select {
		case <-stop:
			return
		default:
		}
		msg := fmt.Appendf(nil, "client %d message %d ", id, seq)
		for n := rng.IntN(64 << 10); len(msg) < n; {
			msg = append(msg, byte('a'+rng.IntN(26)))
		}
		op := byte(0x81)
		if seq%2 == 1 {
			op = 0x82
		}
		if _, err := g.rc.Write(frame(op, key, msg)); err != nil {
			g.err = fmt.Errorf("message %d: write: %v", seq, err)
			return
		}
		for {
			f, err := g.rc.readFrame(t)
			if err != nil {
				g.err = fmt.Errorf("message %d: read: %v", seq, err)
				return
			}
			if f.op == 0x9 { // keepalive PING when the loop was slow
				g.rc.Write(frame(0x8A, key, f.payload))
				continue
			}
			if !f.fin || f.op != op&0x0f || !bytes.Equal(f.payload, msg) {
				g.err = fmt.Errorf("message %d (op %d, %d bytes) came back as %v", seq, op&0x0f, len(msg), f)
				return
			}
			break
		}
		g.done.Add(1)
	}
}

// TestHostileClients runs the hostile cases in parallel against one
// service while 20 echo clients are served throughout; afterwards only
// the echo clients' connections remain.
func TestHostileClients(t *testing.T) {
	h := startHostileServer(t)
	good := make([]*goodClient, hostileGoodClients)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range good {
		g := &goodClient{rc: dialWS(t, h.svc, "echo")}
		good[i] = g
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.run(t, i, stop)
		}()
	}
	stopGood := sync.OnceFunc(func() { close(stop); wg.Wait() })
	defer stopGood()
	waitCond(t, "every echo client served once", func() bool {
		for _, g := range good {
			if g.done.Load() == 0 && !g.failed.Load() {
				return false
			}
		}
		return true
	})
	before := make([]int64, len(good))
	for i, g := range good {
		before[i] = g.done.Load()
	}
	start := time.Now()

	t.Run("case", func(t *testing.T) {
		for _, tc := range hostileCases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				tc.run(t, h)
			})
		}
	})

	elapsed := time.Since(start)
	for deadline := time.Now().Add(20 * time.Second); h.svc.Connections() != hostileGoodClients; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("%d connections left after the hostile cases, want the %d echo clients'", h.svc.Connections(), hostileGoodClients)
			h.tr.mu.Lock()
			for port, c := range h.tr.open {
				if _, ok := h.tr.closed[port]; !ok {
					t.Logf("still open: WebSocket from port %d (%s)", port, c.Protocol().Name)
				}
			}
			h.tr.mu.Unlock()
			break
		}
	}
	stopGood()
	total := int64(0)
	for i, g := range good {
		if g.err != nil {
			t.Errorf("echo client %d: %v", i, g.err)
		}
		if n := g.done.Load() - before[i]; n == 0 {
			t.Errorf("echo client %d was not served while the hostile cases ran", i)
		} else {
			total += n
		}
	}
	t.Logf("%d echo clients completed %d round trips intact during the %v the hostile cases took", len(good), total, elapsed.Round(time.Millisecond))
}
