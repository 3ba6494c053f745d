package httpd

import (
	"os"
	"path/filepath"
	"testing"
)

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestOpenStaticDecodedDotDot runs encoded traversal attempts through the
// parser and OpenStatic together, as the server does.
func TestOpenStaticDecodedDotDot(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	writeFile(t, filepath.Join(root, "index.html"), "ok")
	writeFile(t, filepath.Join(base, "secret.txt"), "outside")
	for _, target := range []string{
		"/%2e%2e/secret.txt",
		"/%2E%2E%2Fsecret.txt",
		"/.%2e/secret.txt",
		"/sub/%2e%2e/%2e%2e/secret.txt",
		"http://h/%2e%2e/secret.txt",
	} {
		r := parseWhole("GET "+target+" HTTP/1.1\r\nHost: h\r\n\r\n", Limits{})
		if !r.done {
			t.Fatalf("%s: parse failed: %d %s", target, r.status, r.msg)
		}
		f, _, _, status := OpenStatic(root, r.req.Path)
		if f != nil {
			f.Close()
		}
		if status != 403 {
			t.Errorf("%s (path %q): status %d, want 403", target, r.req.Path, status)
		}
	}
}

func TestOpenStaticBadRoot(t *testing.T) {
	f, _, _, status := OpenStatic(filepath.Join(t.TempDir(), "nope"), "/")
	if f != nil {
		f.Close()
	}
	want(t, status, 500)
}

func TestContentType(t *testing.T) {
	cases := map[string]string{
		"index.html":                      "text/html; charset=utf-8",
		"A.HTM":                           "text/html; charset=utf-8",
		"s.css":                           "text/css; charset=utf-8",
		"app.js":                          "text/javascript; charset=utf-8",
		"d.json":                          "application/json",
		"p.png":                           "image/png",
		"favicon.ico":                     "image/x-icon",
		"l.svg":                           "image/svg+xml",
		"a.jpg":                           "image/jpeg",
		"a.jpeg":                          "image/jpeg",
		"a.gif":                           "image/gif",
		"r.txt":                           "text/plain; charset=utf-8",
		"m.wasm":                          "application/wasm",
		"i.webp":                          "image/webp",
		"f.woff2":                         "font/woff2",
		"v.mp4":                           "video/mp4",
		"noext":                           "application/octet-stream",
		"x.unknown":                       "application/octet-stream",
		"dir.html/":                       "application/octet-stream",
		"/a/b/libwebsockets.org-logo.png": "image/png",
	}
	for name, ct := range cases {
		if got := ContentType(name); got != ct {
			t.Errorf("ContentType(%q) = %q, want %q", name, got, ct)
		}
	}
}
