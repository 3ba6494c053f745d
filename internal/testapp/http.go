package testapp

import (
	"embed"
	"io/fs"
	"path"
	"strings"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/httpd"
)

//go:embed assets
var assets embed.FS

// Assets are the test page, favicon and logo served by default.
func Assets() fs.FS {
	sub, _ := fs.Sub(assets, "assets")
	return sub
}

// HTTPHandler serves root when it is set, else the embedded assets; "/" is
// test.html.
func HTTPHandler(root string) func(r *lws.HTTPRequest) {
	files := Assets()
	return func(r *lws.HTTPRequest) {
		if r.Method != "GET" && r.Method != "HEAD" {
			r.Error(405)
			return
		}
		p := r.Path
		if p == "/" {
			p = "/test.html"
		}
		if root != "" {
			r.ServeFile(root, p)
			return
		}
		name := strings.TrimPrefix(path.Clean(p), "/")
		data, err := fs.ReadFile(files, name)
		if err != nil {
			r.Error(404)
			return
		}
		r.Respond(200, httpd.ContentType(name), data)
	}
}
