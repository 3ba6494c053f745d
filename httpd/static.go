package httpd

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
)

// IndexFile is the file served for "/" and for any directory.
const IndexFile = "index.html"

// OpenStatic resolves urlPath, the decoded path of a request
// ([Request.Path]), under the directory root and opens the file to serve.
// On success it returns the open file, its size, its content type and 200;
// otherwise f is nil and status is one of:
//
//	403  a ".." segment in urlPath, a NUL byte, a symlink (at any depth)
//	     that resolves outside root, or a target that is not a regular file
//	     (device, FIFO, socket)
//	404  no such file, a path through a non-directory, or a directory
//	     without index.html
//	500  root itself cannot be opened
//
// The path is cleaned; "/" and every directory map to its index.html. The
// open happens through [os.Root], so the kernel refuses escapes while
// resolving and a symlink swapped in between checks cannot redirect it. The
// file is opened non-blocking, so a FIFO planted in root cannot stall the
// caller. The caller closes f.
func OpenStatic(root, urlPath string) (f *os.File, size int64, ctype string, status int) {
	if strings.IndexByte(urlPath, 0) >= 0 || hasDotDot(urlPath) {
		return nil, 0, "", 403
	}
	name := strings.TrimPrefix(path.Clean("/"+urlPath), "/")
	if name == "" {
		name = "."
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, 0, "", 500
	}
	defer r.Close()

	fi, err := r.Stat(name)
	if err != nil {
		return nil, 0, "", openStatus(err)
	}
	if fi.IsDir() {
		name = path.Join(name, IndexFile)
	}
	f, err = r.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, 0, "", openStatus(err)
	}
	fi, err = f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, "", 500
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, "", 403
	}
	return f, fi.Size(), ContentType(name), 200
}

// hasDotDot reports whether p has a ".." path segment.
func hasDotDot(p string) bool {
	for p != "" {
		var seg string
		seg, p, _ = strings.Cut(p, "/")
		if seg == ".." {
			return true
		}
	}
	return false
}

func openStatus(err error) int {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return 404
	}
	return 403
}

// ContentType returns the media type for a file name by its extension
// (case-insensitive), "application/octet-stream" for unknown ones. Text
// types carry "; charset=utf-8".
func ContentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	switch ext {
	case ".html", ".htm":
		return "text/html; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".json":
		return "application/json"
	case ".txt":
		return "text/plain; charset=utf-8"
	case ".xml":
		return "application/xml"
	case ".png":
		return "image/png"
	case ".ico":
		return "image/x-icon"
	case ".svg":
		return "image/svg+xml"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".gif":
		return "image/gif"
	case ".webp":
		return "image/webp"
	case ".avif":
		return "image/avif"
	case ".wasm":
		return "application/wasm"
	case ".woff":
		return "font/woff"
	case ".woff2":
		return "font/woff2"
	case ".ttf":
		return "font/ttf"
	case ".otf":
		return "font/otf"
	case ".mp4":
		return "video/mp4"
	case ".webm":
		return "video/webm"
	case ".mp3":
		return "audio/mpeg"
	case ".ogg":
		return "audio/ogg"
	case ".wav":
		return "audio/wav"
	case ".pdf":
		return "application/pdf"
	case ".zip":
		return "application/zip"
	case ".gz":
		return "application/gzip"
	case ".map":
		return "application/json"
	}
	return "application/octet-stream"
}
