package lws_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lws-go/lws"
)

// The HTTP model test: plain HTTP connections are stateful too (kept
// alive, pipelined, answers streamed from files, reading held while
// answers back up, closed after an error or "Connection: close",
// upgraded to WebSocket with frames right behind the request), so they
// get a seeded randomized test with a model of what must come back.

// httpModelFiles are the files the model serves, by name and size.
var httpModelFiles = map[string]int{"empty": 0, "one": 1, "small": 1000, "page": 100 << 10, "big": 3 << 20}

// modelBody is the deterministic content of n bytes named by tag.
func modelBody(n int, tag string) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = tag[i%len(tag)] + byte(i/len(tag)%7)
	}
	return b
}

// modelReq is one request a model client sends, and what must come back.
type modelReq struct {
	raw     []byte // the request as written (head and body)
	method  string
	status  int
	body    []byte // the answer's body (nil for HEAD)
	length  int    // its Content-Length
	closes  bool   // the server closes the connection after the answer
	refused bool   // refused before the handler sees it (a bad request)
	upgrade bool   // a WebSocket upgrade: 101, then an echo of frame
	frame   []byte // the text frame sent right behind the upgrade request
}

// genModelRequests draws the requests of client c: kinds of answer
// (Respond of random sizes, files, a missing file, HEAD, request bodies to
// skip), ending at random with a request after which the server closes
// (an error, "Connection: close", HTTP/1.0, a request refused as
// malformed, too large or chunked) or an upgrade, or with none; a few
// requests pipelined after a closing one must get no answer.
func genModelRequests(r *rand.Rand, c int) []modelReq {
	var reqs []modelReq
	n := 1 + r.IntN(40)
	for s := 0; s < n; s++ {
		q := fmt.Sprintf("?c=%d&s=%d", c, s)
		m := modelReq{method: "GET", status: 200}
		var path string
		headers := "Host: localhost\r\n"
		var body []byte
		switch k := r.IntN(20); {
		case k < 8:
			size := []int{0, 1, 100, 5000, 70000, 300000}[r.IntN(6)]
			tag := fmt.Sprintf("r%d.%d", c, s)
			path = fmt.Sprintf("/r/%d/%s", size, tag)
			m.body = modelBody(size, tag)
		case k < 13:
			names := []string{"empty", "one", "small", "page", "big"}
			name := names[r.IntN(len(names))]
			path = "/f/" + name
			m.body = modelBody(httpModelFiles[name], name)
		case k < 15:
			path = "/f/missing"
			m.status = 404
		case k < 17: // a body to skip
			m.method = "POST"
			size := r.IntN(3000)
			tag := fmt.Sprintf("p%d.%d", c, s)
			path = fmt.Sprintf("/r/%d/%s", size, tag)
			m.body = modelBody(size, tag)
			body = modelBody(r.IntN(20000), "x")
			headers += "Content-Length: " + strconv.Itoa(len(body)) + "\r\n"
		default:
			m.method = "HEAD"
			size := r.IntN(5000)
			path = fmt.Sprintf("/r/%d/h", size)
			m.length = size
		}
		if m.method != "HEAD" {
			m.length = len(m.body)
		}
		version := "HTTP/1.1"
		if s == n-1 { // the last: maybe one that ends the connection
			switch r.IntN(9) {
			case 0:
				path, m.method, m.status, m.body = "/e/500", "GET", 500, nil
				headers, body = "Host: localhost\r\n", nil
				m.closes = true
			case 1:
				headers += "Connection: close\r\n"
				m.closes = true
			case 2:
				version = "HTTP/1.0"
				m.closes = true
			case 3:
				m = modelReq{method: "GET", status: 101, upgrade: true}
				path, body = "/", nil
				headers = "Host: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + testKey +
					"\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: echo\r\n"
				m.frame = frame(0x81, [4]byte{1, 2, 3, 4}, []byte(fmt.Sprintf("frame of client %d", c)))
			case 4, 5, 6: // refused: a malformed header, one too large, a chunked body
				m = modelReq{method: "GET", status: []int{400, 431, 411}[r.IntN(3)], closes: true, refused: true}
				path, body = "/r/10/bad", nil
				headers = "Host: localhost\r\n" + map[int]string{
					400: "this is not a header field\r\n",
					431: "X-Big: " + strings.Repeat("a", 9000) + "\r\n",
					411: "Transfer-Encoding: chunked\r\n",
				}[m.status]
			}
		}
		if m.status >= 400 {
			m.length = -1 // an error page: its length is the server's
		}
		m.raw = append([]byte(m.method+" "+path+q+" "+version+"\r\n"+headers+"\r\n"), body...)
		reqs = append(reqs, m)
		if m.closes || m.upgrade {
			// Requests pipelined behind it are never answered.
			for range r.IntN(3) {
				reqs = append(reqs, modelReq{raw: []byte("GET /r/10/late" + q + "x HTTP/1.1\r\nHost: localhost\r\n\r\n")})
			}
			break
		}
	}
	return reqs
}

// httpModelHandler answers the model's paths and records, per client,
// the sequence numbers of the requests it saw, in order.
func httpModelHandler(root string, seen map[int][]int, mu *sync.Mutex) func(r *lws.HTTPRequest) {
	return func(r *lws.HTTPRequest) {
		var c, s int
		if _, err := fmt.Sscanf(r.RawQuery, "c=%d&s=%d", &c, &s); err == nil {
			mu.Lock()
			seen[c] = append(seen[c], s)
			mu.Unlock()
		}
		switch p := r.Path; {
		case strings.HasPrefix(p, "/r/"):
			parts := strings.SplitN(p[len("/r/"):], "/", 2)
			n, _ := strconv.Atoi(parts[0])
			r.Respond(200, "application/octet-stream", modelBody(n, parts[1]))
		case strings.HasPrefix(p, "/f/"):
			r.ServeFile(root, p[len("/f"):])
		case p == "/e/500":
			r.Error(500)
		}
	}
}

// TestHTTPModel: several clients at once, each pipelining a random series
// of requests in random pieces while reading the answers at a random
// pace, against a server with a random write buffer limit (so reading
// holds and resumes as the answers back up). The oracle: every answer
// comes back whole, in order, with its status and body; the server sees
// each client's requests once and in order; after a closing answer the
// connection ends with nothing more; an upgrade answers 101 and echoes
// the frame sent right behind the request; descriptors and goroutines
// return to where they were.
func TestHTTPModel(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("LWS_HTTP_MODEL_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (LWS_HTTP_MODEL_SEED=%d repeats the requests)", seed, seed)
	runHTTPModel(t, seed, 6)
}

func runHTTPModel(t *testing.T, seed uint64, clients int) {
	root := t.TempDir()
	for name, size := range httpModelFiles {
		if err := os.WriteFile(filepath.Join(root, name), modelBody(size, name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := rand.New(rand.NewPCG(seed, 0))
	limit := []int{4 << 10, 64 << 10, 1 << 20}[r.IntN(3)]
	var mu sync.Mutex
	seen := map[int][]int{}
	svc := startService(t, lws.Config{
		Protocols: []*lws.Protocol{echoProtocol("echo")},
		HTTP:      httpModelHandler(root, seen, &mu),
		Limits:    lws.Limits{WriteBufferSize: limit},
	})
	base := snapshot(t)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	reqs := make([][]modelReq, clients)
	for c := range clients {
		reqs[c] = genModelRequests(rand.New(rand.NewPCG(seed, uint64(1+c))), c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := runModelClient(svc.Addr().String(), reqs[c], rand.New(rand.NewPCG(seed, uint64(100+c)))); err != nil {
				errs <- fmt.Errorf("client %d: %w", c, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("seed %d, write buffer %d: %v", seed, limit, err)
	}
	mu.Lock()
	for c := range clients {
		var want []int
		for s, m := range reqs[c] {
			if m.raw != nil && m.status != 0 && !m.upgrade && !m.refused {
				want = append(want, s)
			}
		}
		if fmt.Sprint(seen[c]) != fmt.Sprint(want) {
			t.Errorf("seed %d: the server saw client %d's requests %v, want %v", seed, c, seen[c], want)
		}
	}
	mu.Unlock()
	waitBaseline(t, base, fmt.Sprintf("after %d clients (write buffer %d)", clients, limit))
}

// runModelClient sends reqs pipelined in random pieces and checks the
// answers as it reads them at a random pace.
func runModelClient(addr string, reqs []modelReq, r *rand.Rand) error {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	tc := conn.(*net.TCPConn)
	// Small receive buffers, so the answers back up into the server; not
	// under 64 KiB: below loopback's MSS the window opens only by the
	// kernel's zero-window probes, seconds apart.
	tc.SetReadBuffer(64 << 10 << r.IntN(3))
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	var out []byte
	upgraded := false
	for _, m := range reqs {
		out = append(out, m.raw...)
		out = append(out, m.frame...)
		upgraded = upgraded || m.upgrade
	}
	wseed := r.Uint64()
	written := make(chan struct{})
	go func() {
		defer close(written)
		wr := rand.New(rand.NewPCG(wseed, 1))
		for len(out) > 0 {
			k := min(len(out), 1+wr.IntN(4096))
			if _, err := conn.Write(out[:k]); err != nil {
				return // the server closed after its closing answer
			}
			out = out[k:]
			if wr.IntN(8) == 0 {
				time.Sleep(time.Duration(wr.IntN(500)) * time.Microsecond)
			}
		}
		if !upgraded {
			tc.CloseWrite() // the end: the server closes after the last answer
		}
	}()
	defer func() { <-written }()
	br := bufio.NewReaderSize(pacedReader{conn, r}, 4096)
	for i, m := range reqs {
		if m.status == 0 {
			break // pipelined behind a closing answer: never answered
		}
		resp, err := http.ReadResponse(br, &http.Request{Method: m.method})
		if err != nil {
			return fmt.Errorf("answer %d (%s %d bytes): %w", i, m.method, m.length, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case err != nil:
			return fmt.Errorf("answer %d to %q: %d of %d body bytes: %w", i, m.raw[:bytes.IndexByte(m.raw, '\r')], len(body), resp.ContentLength, err)
		case resp.StatusCode != m.status:
			return fmt.Errorf("answer %d: status %d, want %d", i, resp.StatusCode, m.status)
		case m.upgrade:
			b0, payload, err := readFrameExact(br, false)
			if err != nil || b0 != 0x81 || !bytes.Equal(payload, unmask(m.frame)) {
				return fmt.Errorf("the echo after the upgrade: %#x %q, %v", b0, payload, err)
			}
			if _, err := conn.Write(frame(0x88, [4]byte{5, 6, 7, 8}, []byte{0x03, 0xe8})); err != nil {
				return fmt.Errorf("close frame: %w", err)
			}
			if b0, _, err := readFrameExact(br, false); err != nil || b0 != 0x88 {
				return fmt.Errorf("the answer to our close: %#x, %v", b0, err)
			}
		case m.length >= 0 && resp.ContentLength != int64(m.length):
			return fmt.Errorf("answer %d: Content-Length %d, want %d", i, resp.ContentLength, m.length)
		case m.body != nil && !bytes.Equal(body, m.body):
			return fmt.Errorf("answer %d: %d bytes, want %d (first difference at %d)", i, len(body), len(m.body), firstDiff(body, m.body))
		case m.method == "HEAD" && len(body) != 0:
			return fmt.Errorf("answer %d to HEAD has a body of %d bytes", i, len(body))
		case resp.Close != m.closes && !m.upgrade && m.status != 500:
			return fmt.Errorf("answer %d: closes %v, want %v", i, resp.Close, m.closes)
		}
	}
	// Then the end of the stream and nothing else.
	if n, err := io.Copy(io.Discard, br); n != 0 || err != nil {
		return fmt.Errorf("after the last answer: %d more bytes, %v", n, err)
	}
	return nil
}

// unmask is the payload of a masked client frame of under 126 bytes.
func unmask(f []byte) []byte {
	key, p := f[2:6], bytes.Clone(f[6:])
	for i := range p {
		p[i] ^= key[i%4]
	}
	return p
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// pacedReader reads in small pieces now and then, with a pause now and
// then: a client that reads its answers at a random pace.
type pacedReader struct {
	c net.Conn
	r *rand.Rand
}

func (s pacedReader) Read(p []byte) (int, error) {
	if s.r.IntN(4) == 0 {
		p = p[:min(len(p), 1+s.r.IntN(512))]
	}
	if s.r.IntN(64) == 0 {
		time.Sleep(time.Duration(s.r.IntN(2000)) * time.Microsecond)
	}
	return s.c.Read(p)
}

// TestHTTPAnswersOutliveClientHalfClose: a client that sends its requests
// and then shuts its side (as the model's clients do) gets every answer
// whole before the connection closes, however much of it the server
// still holds when it reads the end: a kept-alive answer, one to
// "Connection: close", a streamed file, and three pipelined answers.
func TestHTTPAnswersOutliveClientHalfClose(t *testing.T) {
	root := t.TempDir()
	file := modelBody(3<<20, "file")
	if err := os.WriteFile(filepath.Join(root, "file"), file, 0o644); err != nil {
		t.Fatal(err)
	}
	big := modelBody(16<<20, "big")
	svc := startService(t, lws.Config{HTTP: func(r *lws.HTTPRequest) {
		if r.Path == "/file" {
			r.ServeFile(root, r.Path)
			return
		}
		r.Respond(200, "application/octet-stream", big)
	}})
	get := func(path, extra string) string {
		return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n" + extra + "\r\n"
	}
	cases := []struct {
		name string
		reqs string
		want [][]byte
	}{
		{"kept alive", get("/big", ""), [][]byte{big}},
		{"Connection: close", get("/big", "Connection: close\r\n"), [][]byte{big}},
		{"streamed file", get("/file", ""), [][]byte{file}},
		{"pipelined", get("/big", "") + get("/file", "") + get("/big", ""), [][]byte{big, file, big}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.DialTimeout("tcp", svc.Addr().String(), 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(30 * time.Second))
			if _, err := conn.Write([]byte(tc.reqs)); err != nil {
				t.Fatal(err)
			}
			conn.(*net.TCPConn).CloseWrite()
			br := bufio.NewReader(conn)
			for i, want := range tc.want {
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatalf("answer %d: %v", i, err)
				}
				body, err := io.ReadAll(resp.Body)
				if err != nil || !bytes.Equal(body, want) {
					t.Fatalf("answer %d: %d of %d bytes, %v", i, len(body), len(want), err)
				}
			}
			if n, err := io.Copy(io.Discard, br); n != 0 || err != nil {
				t.Fatalf("after the answers: %d more bytes, %v; want the end of the stream", n, err)
			}
		})
	}
}
