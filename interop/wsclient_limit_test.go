//go:build unix

package interop

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lws-go/lws/wsproto"
)

// wsClient is a minimal WebSocket client for tests that need many
// connections at once, where starting a peer process per connection would
// cost more than the server under test.
type wsClient struct {
	conn net.Conn
	r    *bufio.Reader
}

// wsDial opens a WebSocket connection to 127.0.0.1:port offering proto.
func wsDial(port int, proto string) (*wsClient, error) {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 10*time.Second)
	if err != nil {
		return nil, err
	}
	key := wsproto.NewClientKey()
	if _, err := io.WriteString(c, handshakeRequest(key, proto)); err != nil {
		c.Close()
		return nil, err
	}
	w := &wsClient{conn: c, r: bufio.NewReader(c)}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(w.r, nil)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("reading handshake response: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != wsproto.AcceptKey(key) {
		c.Close()
		return nil, fmt.Errorf("handshake refused: %s", resp.Status)
	}
	c.SetReadDeadline(time.Time{})
	return w, nil
}

func handshakeRequest(key, proto string) string {
	return "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Protocol: " + proto + "\r\n\r\n"
}

// readFrame reads one (unmasked) server frame within timeout.
func (w *wsClient) readFrame(timeout time.Duration) (op byte, payload []byte, err error) {
	w.conn.SetReadDeadline(time.Now().Add(timeout))
	var h [2]byte
	if _, err := io.ReadFull(w.r, h[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		_, err = io.ReadFull(w.r, b[:])
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		_, err = io.ReadFull(w.r, b[:])
		n = binary.BigEndian.Uint64(b[:])
	}
	if err != nil {
		return 0, nil, err
	}
	if h[1]&0x80 != 0 || n > 1<<20 {
		return 0, nil, fmt.Errorf("bad server frame header % x (length %d)", h, n)
	}
	payload = make([]byte, n)
	_, err = io.ReadFull(w.r, payload)
	return h[0] & 0x0f, payload, err
}

// writeFrame sends one masked, final frame.
func (w *wsClient) writeFrame(op byte, payload []byte) error {
	key := wsproto.NewMaskKey()
	f := wsproto.AppendHeader(nil, wsproto.Header{Fin: true, Opcode: wsproto.Opcode(op), Masked: true, Mask: key, Length: int64(len(payload))})
	start := len(f)
	f = append(f, payload...)
	wsproto.Mask(key, 0, f[start:])
	_, err := w.conn.Write(f)
	return err
}

// closeHandshake sends close 1000, waits for the server's close frame and
// then for the end of the TCP stream.
func (w *wsClient) closeHandshake() error {
	if err := w.writeFrame(0x8, []byte{0x03, 0xe8}); err != nil {
		return err
	}
	for {
		op, _, err := w.readFrame(10 * time.Second)
		if err != nil {
			return fmt.Errorf("waiting for the close reply: %w", err)
		}
		if op == 0x8 {
			break
		}
	}
	if _, err := w.r.ReadByte(); !isClosedByPeer(err) {
		return fmt.Errorf("after the close reply: %v, want the end of the stream", err)
	}
	return nil
}

func (w *wsClient) Close() error { return w.conn.Close() }

// isClosedByPeer reports whether a read error means the peer ended the
// connection (FIN or RST), as opposed to a timeout.
func isClosedByPeer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

// dumbHolder keeps a dumb-increment-protocol connection open and checks
// the numbers it receives count up by one.
type dumbHolder struct {
	ws   *wsClient
	mu   sync.Mutex
	next int   // the number expected next
	err  error // first error: a gap, a bad frame, the connection ending
	done chan struct{}
}

func newDumbHolder(port int) (*dumbHolder, error) {
	ws, err := wsDial(port, "dumb-increment-protocol")
	if err != nil {
		return nil, err
	}
	h := &dumbHolder{ws: ws, done: make(chan struct{})}
	go h.read()
	return h, nil
}

func (h *dumbHolder) read() {
	defer close(h.done)
	for {
		op, p, err := h.ws.readFrame(time.Minute)
		h.mu.Lock()
		switch {
		case err != nil:
			h.err = err
		case op == 0x8 && len(p) >= 2:
			h.err = fmt.Errorf("close %d %q", binary.BigEndian.Uint16(p), p[2:])
		case op != 0x1:
			h.err = fmt.Errorf("opcode %d, want TEXT", op)
		case string(p) != strconv.Itoa(h.next):
			h.err = fmt.Errorf("received %q, want %d", p, h.next)
		default:
			h.next++
		}
		err = h.err
		h.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// received is how many numbers arrived in order, and the first error.
func (h *dumbHolder) received() (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.next, h.err
}

// stop closes the connection and waits for the reader to end.
func (h *dumbHolder) stop() {
	h.ws.Close()
	<-h.done
}

// procCPU is a process's user+system CPU time so far, from /proc/PID/stat
// (fields 14 and 15, in clock ticks of 1/100 s).
func procCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatalf("reading CPU time: %v", err)
	}
	// The command name may hold spaces and parentheses: fields start after the last ')'.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("parsing %s: %v %v", b, err1, err2)
	}
	return time.Duration(utime+stime) * (time.Second / 100)
}
