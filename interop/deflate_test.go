//go:build unix

package interop

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/wsproto"
)

// deflateSizes go from an empty message to 4 MiB, across the frame length
// encodings.
var deflateSizes = []string{"0", "1", "125", "126", "65535", "65536", "1000000", "4194304"}

// deflateEchoServer runs, in this process, a service whose echo protocol
// has permessage-deflate on; it records the parameters each connection
// agreed.
type deflateEchoServer struct {
	svc    *lws.Service
	mu     sync.Mutex
	agreed []string
}

func startDeflateEcho(t *testing.T, comp *lws.Compression) *deflateEchoServer {
	t.Helper()
	s := &deflateEchoServer{}
	type pending struct {
		msg  []byte
		mode lws.WriteMode
	}
	// Reassembled echo: one Write per message; when the write buffer is
	// full the copy waits for OnWriteable.
	p := &lws.Protocol{
		Name:        "echo",
		Reassemble:  true,
		Compression: comp,
		OnEstablished: func(c *lws.Conn) {
			params, ok := c.Deflate()
			s.mu.Lock()
			s.agreed = append(s.agreed, fmt.Sprint(ok, " ", params))
			s.mu.Unlock()
		},
		OnReceive: func(c *lws.Conn, data []byte) {
			mode := lws.WriteText
			if c.IsBinary() {
				mode = lws.WriteBinary
			}
			if err := c.Write(data, mode); err == lws.ErrWriteBufferFull {
				c.SetUser(&pending{append([]byte(nil), data...), mode})
				c.PauseRx()
				c.RequestWriteable()
			}
		},
		OnWriteable: func(c *lws.Conn) {
			if pw, ok := c.User().(*pending); ok {
				if err := c.Write(pw.msg, pw.mode); err == lws.ErrWriteBufferFull {
					c.RequestWriteable()
					return
				}
				c.SetUser(nil)
				c.ResumeRx()
			}
		},
	}
	svc, err := lws.New(lws.Config{Addr: "127.0.0.1:0", Protocols: []*lws.Protocol{p}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- svc.Run() }()
	t.Cleanup(func() {
		svc.Close()
		<-done
	})
	s.svc = svc
	return s
}

func (s *deflateEchoServer) url() string { return "ws://" + s.svc.Addr().String() + "/" }

func (s *deflateEchoServer) agreements() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.agreed...)
}

type deflateReport struct {
	Extension  string   `json:"extension"`
	Negotiated []string `json:"negotiated"`
	Results    []struct {
		Size     int  `json:"size"`
		Binary   bool `json:"binary"`
		SameType bool `json:"same_type"`
		Equal    bool `json:"equal"`
		GotLen   int  `json:"got_len"`
	} `json:"results"`
	Error     string `json:"error"`
	CloseCode int    `json:"close_code"`
}

func checkDeflateReport(t *testing.T, peer string, out []byte, sizes int, wantExt string) {
	t.Helper()
	var rep deflateReport
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("%s printed %q: %v", peer, out, err)
	}
	if rep.Error != "" {
		t.Fatalf("%s: %s", peer, rep.Error)
	}
	if rep.Extension != wantExt {
		t.Errorf("%s: negotiated %q, want %q", peer, rep.Extension, wantExt)
	}
	if len(rep.Results) != 2*sizes {
		t.Fatalf("%s: %d echoes, want %d", peer, len(rep.Results), 2*sizes)
	}
	for _, r := range rep.Results {
		if !r.SameType || !r.Equal {
			t.Errorf("%s: %v message of %d bytes came back wrong: same type %v, equal %v, %d bytes",
				peer, map[bool]string{false: "text", true: "binary"}[r.Binary], r.Size, r.SameType, r.Equal, r.GotLen)
		}
	}
	if rep.CloseCode != 1000 {
		t.Errorf("%s: close code %d, want 1000", peer, rep.CloseCode)
	}
	t.Logf("%s: %d compressed echoes of 0 B to 4 MiB, extension %q %v", peer, len(rep.Results), rep.Extension, rep.Negotiated)
}

// TestDeflatePythonClient: Python's websockets client (compression on,
// its default offer "permessage-deflate; client_max_window_bits") against
// our server, text and random binary from 0 bytes to 4 MiB each way; then
// an offer limiting our window to 10 bits, which our server keeps to and
// Python's zlib inflates with a 1 KiB window.
func TestDeflatePythonClient(t *testing.T) {
	py := requirePython(t)
	srv := startDeflateEcho(t, &lws.Compression{})
	out, err := exec.Command(py, append([]string{"testdata/deflate_peer.py", "client", srv.url()}, deflateSizes...)...).Output()
	if err != nil {
		t.Fatalf("deflate_peer.py: %v\n%s%s", err, out, stderrOf(err))
	}
	checkDeflateReport(t, "python websockets", out, len(deflateSizes), "permessage-deflate; server_no_context_takeover")

	small := []string{"0", "125", "65536", "300000"}
	out, err = exec.Command(py, append([]string{"testdata/deflate_peer.py", "client", srv.url(), "server_max_window_bits=10"}, small...)...).Output()
	if err != nil {
		t.Fatalf("deflate_peer.py: %v\n%s%s", err, out, stderrOf(err))
	}
	checkDeflateReport(t, "python websockets, 10-bit server window", out, len(small), "permessage-deflate; server_no_context_takeover; server_max_window_bits=10")
	for _, a := range srv.agreements() {
		if !strings.HasPrefix(a, "true ") {
			t.Errorf("a connection was not compressed: %s", a)
		}
	}
}

// TestDeflateNodeClient: Node's ws client with perMessageDeflate on against
// our server, both directions compressed.
func TestDeflateNodeClient(t *testing.T) {
	node := requireNodeWS(t)
	srv := startDeflateEcho(t, &lws.Compression{ContextTakeover: true})
	cmd := exec.Command(node, append([]string{"testdata/deflate_peer.js", "client", srv.url()}, deflateSizes...)...)
	cmd.Env = append(os.Environ(), "NODE_PATH=/usr/share/nodejs")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("deflate_peer.js: %v\n%s%s", err, out, stderrOf(err))
	}
	checkDeflateReport(t, "node ws", out, len(deflateSizes), "permessage-deflate")
}

var peerExtRE = regexp.MustCompile(`extensions (.*) \| offered (.*)`)

// echoMessage is one message our client sends through a peer's echo.
type echoMessage struct {
	mode lws.WriteMode
	data []byte
}

// deflateMessages is a TEXT (varied words, cut to size on a rune boundary)
// and a random BINARY message of each size.
func deflateMessages(sizes []string) []echoMessage {
	var msgs []echoMessage
	r := rand.New(rand.NewPCG(1, 2))
	for _, s := range sizes {
		var size int
		fmt.Sscan(s, &size)
		text := make([]byte, 0, size+8)
		for len(text) < size {
			text = fmt.Appendf(text, "w%d h\u00e9llo ", r.IntN(500))
		}
		text = text[:size] // cut to size on a rune boundary, pad with ASCII
		for !utf8.Valid(text) {
			text = text[:len(text)-1]
		}
		for len(text) < size {
			text = append(text, 'x')
		}
		bin := make([]byte, size)
		crand.Read(bin)
		msgs = append(msgs, echoMessage{lws.WriteText, text}, echoMessage{lws.WriteBinary, bin})
	}
	return msgs
}

// dialDeflateEcho runs our client (Dial, compression on) against a peer's
// echo server on port: text and random binary messages from 0 bytes to
// 4 MiB must come back whole.
func dialDeflateEcho(t *testing.T, port string, comp *lws.Compression) {
	t.Helper()
	dialEcho(t, "ws://127.0.0.1:"+port+"/", comp, deflateMessages(deflateSizes))
}

// dialEcho sends msgs one at a time through an echo server with our client
// and checks each comes back whole, with its type.
func dialEcho(t *testing.T, url string, comp *lws.Compression, msgs []echoMessage) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cc, err := lws.Dial(ctx, url, &lws.DialOptions{Compression: comp})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer cc.Close(wsproto.CloseNormal, "done")
	for i, m := range msgs {
		if err := cc.WriteMessage(ctx, m.mode, m.data); err != nil {
			t.Fatalf("message %d, %d bytes: write: %v", i, len(m.data), err)
		}
		op, got, err := cc.ReadMessage(ctx)
		if err != nil || op != m.mode || !bytes.Equal(got, m.data) {
			t.Fatalf("message %d, %d-byte %v: echo %v, %d bytes, %v", i, len(m.data), m.mode, op, len(got), err)
		}
	}
}

// TestDeflateOurClientPythonServer: our client against Python's websockets
// server with its default compression, which limits both windows to 12
// bits (ours, since our offer has client_max_window_bits) and answers our
// client_no_context_takeover.
func TestDeflateOurClientPythonServer(t *testing.T) {
	py := requirePython(t)
	srv := start(t, py, "testdata/deflate_peer.py", "server")
	if !srv.waitFor(30*time.Second, pyPortRE.MatchString) {
		t.Fatalf("python server did not start:\n%s", srv.Output())
	}
	dialDeflateEcho(t, pyPortRE.FindStringSubmatch(srv.Output())[1], &lws.Compression{})
	if !srv.waitFor(10*time.Second, peerExtRE.MatchString) {
		t.Fatalf("python server printed no extension line:\n%s", srv.Output())
	}
	m := peerExtRE.FindStringSubmatch(srv.Output())
	if m[1] != "permessage-deflate; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=12" ||
		m[2] != "permessage-deflate; client_no_context_takeover; client_max_window_bits" {
		t.Fatalf("we offered %q, python answered %q", m[2], m[1])
	}
	t.Logf("we offered %q, python answered %q", m[2], m[1])
}

// TestDeflateOurClientNodeServer: our client, with context takeover, against
// Node's ws server with perMessageDeflate on.
func TestDeflateOurClientNodeServer(t *testing.T) {
	node := requireNodeWS(t)
	t.Setenv("NODE_PATH", "/usr/share/nodejs")
	srv := start(t, node, "testdata/deflate_peer.js", "server")
	if !srv.waitFor(30*time.Second, pyPortRE.MatchString) {
		t.Fatalf("node server did not start:\n%s", srv.Output())
	}
	dialDeflateEcho(t, pyPortRE.FindStringSubmatch(srv.Output())[1], &lws.Compression{ContextTakeover: true})
	if !srv.waitFor(10*time.Second, peerExtRE.MatchString) {
		t.Fatalf("node server printed no extension line:\n%s", srv.Output())
	}
	m := peerExtRE.FindStringSubmatch(srv.Output())
	if m[1] != "permessage-deflate" || m[2] != "permessage-deflate; client_max_window_bits" {
		t.Fatalf("we offered %q, node answered %q", m[2], m[1])
	}
	t.Logf("we offered %q, node answered %q", m[2], m[1])
}

var (
	srvDeflateRE  = regexp.MustCompile(`X: conn \S+: permessage-deflate: (.*)`)
	srvInflatedRE = regexp.MustCompile(`X: conn \S+: inflating a \d+-byte compressed message`)
)

// TestDeflateCClient: Debian's C libwebsockets-test-client offers
// "permessage-deflate; client_no_context_takeover" on both its
// connections. Our lws-test-server accepts it on the mirror connection
// (and declines it on dumb-increment, as the C server does), and
// compressed mirror traffic flows both ways while the counter keeps
// counting.
func TestDeflateCClient(t *testing.T) {
	client := requirePeer(t, "libwebsockets-test-client")
	srv, port := startServer(t, "-d", "135") // ERR WARN NOTICE EXT
	c := start(t, client, "127.0.0.1", fmt.Sprintf("--port=%d", port), "-d", "15")
	ok := srv.waitFor(60*time.Second, func(out string) bool { return len(matches(out, srvInflatedRE)) >= 20 }) &&
		c.waitFor(60*time.Second, func(out string) bool { return len(matches(out, cRxRE)) >= 20 })
	sout, cout := srv.Output(), c.Output()
	if !ok {
		t.Fatalf("no compressed traffic: %d compressed messages received by the server, %d numbers by the client",
			len(matches(sout, srvInflatedRE)), len(matches(cout, cRxRE)))
	}
	agreed := matches(sout, srvDeflateRE)
	if len(agreed) == 0 || agreed[0][1] != "permessage-deflate; server_no_context_takeover; client_no_context_takeover" {
		t.Fatalf("negotiation with the C client: %v", agreed)
	}
	if errs := matches(cout, cErrorRE); len(errs) > 0 {
		t.Errorf("C client logged %d errors, first: %s", len(errs), errs[0][0])
	}
	for i, m := range matches(cout, cRxRE) {
		if m[2] != fmt.Sprint(i) {
			t.Fatalf("number %d received was %s", i, m[2])
		}
	}
	t.Logf("C client: agreed %q; server inflated %d compressed mirror messages", agreed[0][1], len(matches(sout, srvInflatedRE)))
}
