//go:build unix

package interop

import (
	"fmt"
	"math/rand/v2"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lws-go/lws"
)

// The clients below are the offers our client can make: every one carries
// client_max_window_bits, so a server may limit our window, and the last
// also asks the server to limit its own.
var windowClients = []struct {
	name  string
	comp  lws.Compression
	offer string
}{
	{"pooled", lws.Compression{}, "permessage-deflate; client_no_context_takeover; client_max_window_bits"},
	{"takeover", lws.Compression{ContextTakeover: true}, "permessage-deflate; client_max_window_bits"},
	{"limiting the server", lws.Compression{ContextTakeover: true, PeerNoContextTakeover: true, PeerMaxWindowBits: 10},
		"permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits"},
}

// windowMessages: text and binary from 0 bytes to 300 kB, then one
// 200-byte text without repeats inside it, four times: when the server
// keeps its context, each copy is a back-reference into the previous
// message, from 200 bytes back, which fits every window zlib uses (it
// refers at most its window less 262 bytes back: 250 bytes for 9 bits).
func windowMessages() []echoMessage {
	msgs := deflateMessages([]string{"0", "1", "125", "126", "65535", "65536", "300000"})
	r := rand.New(rand.NewPCG(3, 4))
	same := make([]byte, 200)
	for i := range same {
		same[i] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[r.IntN(62)]
	}
	for range 4 {
		msgs = append(msgs, echoMessage{lws.WriteText, same})
	}
	return msgs
}

// sameExtension compares two Sec-WebSocket-Extensions answers regardless
// of the order of their parameters.
func sameExtension(a, b string) bool {
	split := func(s string) []string {
		p := strings.Split(s, ";")
		for i := range p {
			p[i] = strings.TrimSpace(p[i])
		}
		slices.Sort(p[1:])
		return p
	}
	return slices.Equal(split(a), split(b))
}

// runWindowServer starts a peer's echo server, runs each of our clients
// through it in turn and checks the peer's answer to each offer.
func runWindowServer(t *testing.T, peer string, srv *proc, answers [3]string) {
	t.Helper()
	if !srv.waitFor(30*time.Second, pyPortRE.MatchString) {
		t.Fatalf("%s server did not start:\n%s", peer, srv.Output())
	}
	url := "ws://127.0.0.1:" + pyPortRE.FindStringSubmatch(srv.Output())[1] + "/"
	msgs := windowMessages()
	for i, c := range windowClients {
		comp := c.comp
		dialEcho(t, url, &comp, msgs)
		if !srv.waitFor(10*time.Second, func(out string) bool { return len(matches(out, peerExtRE)) > i }) {
			t.Fatalf("%s printed no extension line for client %q", peer, c.name)
		}
		m := matches(srv.Output(), peerExtRE)[i]
		if m[2] != c.offer {
			t.Errorf("client %q offered %q, want %q", c.name, m[2], c.offer)
		}
		if !sameExtension(m[1], answers[i]) {
			t.Errorf("%s answered client %q with %q, want %q", peer, c.name, m[1], answers[i])
		}
	}
}

// TestDeflateWindowsPythonServer: our client, in each of its offers,
// against Python's websockets server configured with each parameter of
// RFC 7692 section 7 (ServerPerMessageDeflateFactory): every answer is
// taken, and messages echo whole under it. Python's zlib cannot compress
// with an 8-bit window, so its server's own window goes down to 9 bits.
func TestDeflateWindowsPythonServer(t *testing.T) {
	py := requirePython(t)
	for _, tc := range []struct {
		settings []string
		answers  [3]string // to windowClients, in order
	}{
		{nil, [3]string{ // websockets' default: both windows 12 bits
			"permessage-deflate; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=12",
			"permessage-deflate; server_max_window_bits=12; client_max_window_bits=12",
			"permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12"}},
		{[]string{"server_no_context_takeover=1"}, [3]string{
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover",
			"permessage-deflate; server_no_context_takeover",
			"permessage-deflate; server_no_context_takeover; server_max_window_bits=10"}},
		{[]string{"client_no_context_takeover=1"}, [3]string{
			"permessage-deflate; client_no_context_takeover",
			"permessage-deflate; client_no_context_takeover",
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10"}},
		{[]string{"server_max_window_bits=9"}, [3]string{
			"permessage-deflate; client_no_context_takeover; server_max_window_bits=9",
			"permessage-deflate; server_max_window_bits=9",
			"permessage-deflate; server_no_context_takeover; server_max_window_bits=9"}},
		{[]string{"server_max_window_bits=15"}, [3]string{
			"permessage-deflate; client_no_context_takeover; server_max_window_bits=15",
			"permessage-deflate; server_max_window_bits=15",
			"permessage-deflate; server_no_context_takeover; server_max_window_bits=10"}},
		{[]string{"client_max_window_bits=8"}, [3]string{
			"permessage-deflate; client_no_context_takeover; client_max_window_bits=8",
			"permessage-deflate; client_max_window_bits=8",
			"permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=8"}},
		{[]string{"client_max_window_bits=15"}, [3]string{
			"permessage-deflate; client_no_context_takeover; client_max_window_bits=15",
			"permessage-deflate; client_max_window_bits=15",
			"permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=15"}},
		{[]string{"client_max_window_bits=10", "require_client_max_window_bits=1"}, [3]string{
			"permessage-deflate; client_no_context_takeover; client_max_window_bits=10",
			"permessage-deflate; client_max_window_bits=10",
			"permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=10"}},
		{[]string{"server_no_context_takeover=1", "client_no_context_takeover=1", "server_max_window_bits=10", "client_max_window_bits=9"}, [3]string{
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9",
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9",
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9"}},
	} {
		name := strings.Join(tc.settings, " ")
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			srv := start(t, py, append([]string{"testdata/deflate_peer.py", "server"}, tc.settings...)...)
			runWindowServer(t, "python", srv, tc.answers)
		})
	}
}

// TestDeflateWindowsNodeServer: the same against Node's ws server with
// each of its perMessageDeflate options (threshold 0: every message
// compressed). With serverMaxWindowBits 8, Node's zlib binding compresses
// with 9 bits (zlib refuses 8 for raw deflate), which still refers at most
// 250 bytes back.
func TestDeflateWindowsNodeServer(t *testing.T) {
	node := requireNodeWS(t)
	t.Setenv("NODE_PATH", "/usr/share/nodejs")
	for _, tc := range []struct {
		options string
		answers [3]string
	}{
		{`{}`, [3]string{
			"permessage-deflate; client_no_context_takeover",
			"permessage-deflate",
			"permessage-deflate; server_no_context_takeover; server_max_window_bits=10"}},
		{`{"serverNoContextTakeover": true}`, [3]string{
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover",
			"permessage-deflate; server_no_context_takeover",
			"permessage-deflate; server_no_context_takeover; server_max_window_bits=10"}},
		{`{"clientNoContextTakeover": true}`, [3]string{
			"permessage-deflate; client_no_context_takeover",
			"permessage-deflate; client_no_context_takeover",
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10"}},
		{`{"serverMaxWindowBits": 8}`, [3]string{
			"permessage-deflate; client_no_context_takeover; server_max_window_bits=8",
			"permessage-deflate; server_max_window_bits=8",
			"permessage-deflate; server_no_context_takeover; server_max_window_bits=8"}},
		{`{"serverMaxWindowBits": 9}`, [3]string{
			"permessage-deflate; client_no_context_takeover; server_max_window_bits=9",
			"permessage-deflate; server_max_window_bits=9",
			"permessage-deflate; server_no_context_takeover; server_max_window_bits=9"}},
		{`{"clientMaxWindowBits": 8}`, [3]string{
			"permessage-deflate; client_no_context_takeover; client_max_window_bits=8",
			"permessage-deflate; client_max_window_bits=8",
			"permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=8"}},
		{`{"clientMaxWindowBits": 13}`, [3]string{
			"permessage-deflate; client_no_context_takeover; client_max_window_bits=13",
			"permessage-deflate; client_max_window_bits=13",
			"permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=13"}},
		{`{"serverNoContextTakeover": true, "clientNoContextTakeover": true, "serverMaxWindowBits": 10, "clientMaxWindowBits": 9}`, [3]string{
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9",
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9",
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9"}},
	} {
		t.Run(tc.options, func(t *testing.T) {
			options := strings.Replace(tc.options, "{", `{"threshold": 0, `, 1)
			options = strings.Replace(options, ", }", "}", 1)
			srv := start(t, node, "testdata/deflate_peer.js", "server", options)
			runWindowServer(t, "node", srv, tc.answers)
		})
	}
}

// TestDeflateWindowsPeerClients: our server limiting the client's window
// (Compression.PeerMaxWindowBits 9, with context takeover) against
// Python's and Node's clients, whose offers carry client_max_window_bits:
// the answer limits them to 9 bits, and their compressed messages, from 0
// bytes to 4 MiB, inflate.
func TestDeflateWindowsPeerClients(t *testing.T) {
	py := requirePython(t)
	node := requireNodeWS(t)
	srv := startDeflateEcho(t, &lws.Compression{ContextTakeover: true, PeerMaxWindowBits: 9})
	out, err := exec.Command(py, append([]string{"testdata/deflate_peer.py", "client", srv.url()}, deflateSizes...)...).Output()
	if err != nil {
		t.Fatalf("deflate_peer.py: %v\n%s%s", err, out, stderrOf(err))
	}
	checkDeflateReport(t, "python websockets", out, len(deflateSizes), "permessage-deflate; client_max_window_bits=9")
	cmd := exec.Command(node, append([]string{"testdata/deflate_peer.js", "client", srv.url()}, deflateSizes...)...)
	cmd.Env = append(cmd.Environ(), "NODE_PATH=/usr/share/nodejs")
	if out, err = cmd.Output(); err != nil {
		t.Fatalf("deflate_peer.js: %v\n%s%s", err, out, stderrOf(err))
	}
	checkDeflateReport(t, "node ws", out, len(deflateSizes), "permessage-deflate; client_max_window_bits=9")
	if got := srv.agreements(); len(got) != 2 || got[0] != fmt.Sprint(true, " permessage-deflate; client_max_window_bits=9") || got[1] != got[0] {
		t.Errorf("our server agreed %q", got)
	}
}
