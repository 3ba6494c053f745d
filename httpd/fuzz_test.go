package httpd

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzRequestParser checks that the parser never panics, that feeding the
// input whole, byte at a time and in two uneven chunks gives the same
// result, and that a parsed Request is self-consistent.
func FuzzRequestParser(f *testing.F) {
	f.Add([]byte(upgradeRequest))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: h\r\n\r\n"))
	for _, tc := range parserCases() {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, lim := range []Limits{{}, {MaxHeaderBytes: 64, MaxHeaders: 3}} {
			in := string(data)
			whole := parseWhole(in, lim)
			bytewise := parseBytewise(in, lim)
			if !reflect.DeepEqual(whole, bytewise) {
				t.Fatalf("limits %+v: whole and byte-at-a-time differ:\nwhole:    %+v\nbytewise: %+v", lim, whole, bytewise)
			}
			split := parseSplit(in, lim, len(in)/3)
			if !reflect.DeepEqual(whole, split) {
				t.Fatalf("limits %+v: whole and split differ:\nwhole: %+v\nsplit: %+v", lim, whole, split)
			}
			checkResult(t, in, lim, whole)
		}
	})
}

func parseSplit(in string, lim Limits, at int) result {
	var p Parser
	p.Reset(lim)
	n, done, err := p.Feed([]byte(in[:at]))
	if !done && err == nil {
		var n2 int
		n2, done, err = p.Feed([]byte(in[at:]))
		n += n2
	}
	return collect(&p, n, done, err)
}

func checkResult(t *testing.T, in string, lim Limits, r result) {
	t.Helper()
	lim = lim.withDefaults()
	if r.n < 0 || r.n > len(in) {
		t.Fatalf("consumed %d of %d bytes", r.n, len(in))
	}
	if r.status != 0 {
		switch r.status {
		case 400, 414, 431, 501, 505:
		default:
			t.Fatalf("unexpected status %d", r.status)
		}
		if r.done {
			t.Fatal("done with error")
		}
		return
	}
	if !r.done {
		if r.n != len(in) {
			t.Fatalf("incomplete head but consumed %d of %d", r.n, len(in))
		}
		return
	}
	if r.n > lim.MaxHeaderBytes {
		t.Fatalf("head of %d bytes accepted with limit %d", r.n, lim.MaxHeaderBytes)
	}
	if !strings.HasSuffix(in[:r.n], "\r\n\r\n") {
		t.Fatalf("head does not end in CRLFCRLF: %q", in[:r.n])
	}
	q := r.req
	if !isToken([]byte(q.Method)) || q.Method == "" {
		t.Fatalf("bad method %q", q.Method)
	}
	if q.Major != 1 {
		t.Fatalf("major %d", q.Major)
	}
	if strings.IndexByte(q.Path, 0) >= 0 {
		t.Fatalf("NUL in path %q", q.Path)
	}
	if !strings.Contains(in[:r.n], q.Method+" "+q.Target+" HTTP/") {
		t.Fatalf("request line %q %q not in input", q.Method, q.Target)
	}
	if len(q.Header) > lim.MaxHeaders {
		t.Fatalf("%d headers with limit %d", len(q.Header), lim.MaxHeaders)
	}
	for _, f := range q.Header {
		if f.Name == "" || !isToken([]byte(f.Name)) || strings.ToLower(f.Name) != f.Name {
			t.Fatalf("bad field name %q", f.Name)
		}
		if strings.ContainsAny(f.Value, "\r\n\x00") || trimOWS(f.Value) != f.Value {
			t.Fatalf("bad field value %q", f.Value)
		}
	}
	if q.Chunked && q.ContentLength != -1 {
		t.Fatal("chunked with Content-Length")
	}
	if q.Minor >= 1 && len(q.Header.Values("host")) != 1 {
		t.Fatal("HTTP/1.1 without Host accepted")
	}
	// The Request must not alias the caller's buffer.
	buf := []byte(in)
	var p Parser
	if _, done, _ := p.Feed(buf); done {
		path := p.Request().Path
		for i := range buf {
			buf[i] = 'Z'
		}
		if path != q.Path {
			t.Fatalf("Request aliases the input: %q became %q", q.Path, path)
		}
	}
}
