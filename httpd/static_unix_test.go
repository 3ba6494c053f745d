//go:build unix

package httpd

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestOpenStatic(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	writeFile(t, filepath.Join(root, "index.html"), "<h1>root</h1>")
	writeFile(t, filepath.Join(root, "app.js"), "alert(1)")
	writeFile(t, filepath.Join(root, "sub", "index.html"), "sub index")
	writeFile(t, filepath.Join(root, "sub", "data.JSON"), "{}")
	writeFile(t, filepath.Join(root, "noindex", "file.txt"), "x")
	writeFile(t, filepath.Join(root, "dirindex", "index.html", "x"), "index.html is a directory")
	writeFile(t, filepath.Join(base, "secret.txt"), "outside")
	writeFile(t, filepath.Join(root, "..", "dotdot.txt"), "outside via ..")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink(filepath.Join(base, "secret.txt"), filepath.Join(root, "escape-abs")))
	must(os.Symlink("../secret.txt", filepath.Join(root, "escape-rel")))
	must(os.Symlink("..", filepath.Join(root, "updir")))
	must(os.Symlink("/etc", filepath.Join(root, "etc")))
	must(os.Symlink("sub/data.JSON", filepath.Join(root, "inside-link.json")))
	must(os.Symlink("sub", filepath.Join(root, "sublink")))
	must(os.Symlink("missing", filepath.Join(root, "dangling")))
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Logf("no FIFO: %v", err)
	}

	cases := []struct {
		path, body, ctype string
		status            int
	}{
		{"/", "<h1>root</h1>", "text/html; charset=utf-8", 200},
		{"", "<h1>root</h1>", "text/html; charset=utf-8", 200},
		{"/index.html", "<h1>root</h1>", "text/html; charset=utf-8", 200},
		{"/app.js", "alert(1)", "text/javascript; charset=utf-8", 200},
		{"app.js", "alert(1)", "text/javascript; charset=utf-8", 200},
		{"//app.js", "alert(1)", "text/javascript; charset=utf-8", 200},
		{"/./sub/./data.JSON", "{}", "application/json", 200},
		{"/sub", "sub index", "text/html; charset=utf-8", 200},
		{"/sub/", "sub index", "text/html; charset=utf-8", 200},
		{"/sublink/", "sub index", "text/html; charset=utf-8", 200},
		{"/inside-link.json", "{}", "application/json", 200},
		{"/missing.html", "", "", 404},
		{"/sub/missing/deeper", "", "", 404},
		{"/app.js/x", "", "", 404},
		{"/noindex/", "", "", 404},
		{"/dangling", "", "", 404},
		{"/dirindex/", "", "", 403},
		{"/../secret.txt", "", "", 403},
		{"/sub/../../secret.txt", "", "", 403},
		{"/sub/../app.js", "", "", 403}, // ".." is refused even when it stays inside
		{"..", "", "", 403},
		{"/../dotdot.txt", "", "", 403},
		{"/escape-abs", "", "", 403},
		{"/escape-rel", "", "", 403},
		{"/updir/secret.txt", "", "", 403},
		{"/etc/passwd", "", "", 403},
		{"/a\x00b", "", "", 403},
		{"/fifo", "", "", 403},
		{"/..%2f..%2fsecret.txt", "", "", 404}, // not decoded here: a literal file name
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			f, size, ctype, status := OpenStatic(root, c.path)
			if status != c.status {
				if f != nil {
					f.Close()
				}
				t.Fatalf("status %d, want %d", status, c.status)
			}
			if status != 200 {
				if f != nil || size != 0 || ctype != "" {
					t.Fatalf("refused but got f=%v size=%d ctype=%q", f, size, ctype)
				}
				return
			}
			defer f.Close()
			b, err := io.ReadAll(f)
			if err != nil {
				t.Fatal(err)
			}
			want(t, string(b), c.body)
			want(t, size, int64(len(c.body)))
			want(t, ctype, c.ctype)
		})
	}
}

func TestOpenStaticDevice(t *testing.T) {
	root := t.TempDir()
	if err := os.Symlink("/dev/null", filepath.Join(root, "null")); err != nil {
		t.Fatal(err)
	}
	// A device node inside the root needs privileges; try, skip if refused.
	err := syscall.Mknod(filepath.Join(root, "zero"), syscall.S_IFCHR|0o644, 1<<8|5)
	f, _, _, status := OpenStatic(root, "/null")
	if f != nil {
		f.Close()
	}
	want(t, status, 403) // symlink outside the root
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mknod (make test runs as root): %v", err)
		}
		t.Skipf("mknod: %v", err)
	}
	f, _, _, status = OpenStatic(root, "/zero")
	if f != nil {
		f.Close()
	}
	want(t, status, 403) // not a regular file
}
