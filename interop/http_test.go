//go:build unix

package interop

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServerHTTP checks lws-test-server's HTTP side with Go's HTTP client
// as the peer: the built-in page, favicon and logo with their content
// types, 404 for a missing file, several requests on one kept-alive
// connection, HEAD, and -r serving another root.
func TestServerHTTP(t *testing.T) {
	_, port := startServer(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	client := &http.Client{Timeout: 30 * time.Second}
	for _, tc := range []struct {
		path, ctype, contains string
		status                int
	}{
		{"/", "text/html", "dumb-increment-protocol", 200},
		{"/test.html", "text/html", "lws-mirror-protocol", 200},
		{"/favicon.ico", "image/x-icon", "", 200},
		{"/lws-logo.png", "image/png", "\x89PNG", 200},
		{"/nonesuch.html", "", "", 404},
		{"/../../etc/passwd", "", "", 0}, // 400, 403 or 404: never the file
	} {
		resp, err := client.Get(base + tc.path)
		if err != nil {
			t.Fatalf("GET %s: %v", tc.path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case tc.status == 0:
			if resp.StatusCode == 200 || strings.Contains(string(body), "root:") {
				t.Errorf("GET %s: %d, served something", tc.path, resp.StatusCode)
			}
		case resp.StatusCode != tc.status:
			t.Errorf("GET %s: status %d, want %d", tc.path, resp.StatusCode, tc.status)
		case tc.ctype != "" && !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.ctype):
			t.Errorf("GET %s: Content-Type %q, want %s", tc.path, resp.Header.Get("Content-Type"), tc.ctype)
		case !strings.Contains(string(body), tc.contains):
			t.Errorf("GET %s: body does not contain %q", tc.path, tc.contains)
		}
	}

	// Three requests, pipelined on one connection, answered in order (a
	// 404 keeps the connection), then HEAD, which has no body.
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprint(c, "GET /favicon.ico HTTP/1.1\r\nHost: x\r\n\r\nGET /nonesuch HTTP/1.1\r\nHost: x\r\n\r\nGET /test.html HTTP/1.1\r\nHost: x\r\n\r\n")
	r := bufio.NewReader(c)
	for i, want := range []int{200, 404, 200} {
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("pipelined response %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("pipelined response %d: status %d, want %d", i, resp.StatusCode, want)
		}
	}

	resp, err := client.Head(base + "/test.html")
	if err != nil || resp.StatusCode != 200 || resp.ContentLength <= 0 {
		t.Fatalf("HEAD: %v %v", resp, err)
	}
	resp.Body.Close()

	// -r serves another document root.
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "test.html"), []byte("<p>my own root</p>"), 0o644)
	_, port2 := startServer(t, "-r", root)
	resp, err = client.Get(fmt.Sprintf("http://127.0.0.1:%d/", port2))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "<p>my own root</p>" {
		t.Fatalf("-r root: %d %q", resp.StatusCode, body)
	}
}
