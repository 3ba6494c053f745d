package httpd

import (
	"reflect"
	"strings"
	"testing"
)

type respResult struct {
	n      int
	done   bool
	errMsg string
	resp   Response
}

func parseRespChunks(in string, lim Limits, sizes ...int) respResult {
	var p ResponseParser
	p.Reset(lim)
	var r respResult
	for len(in) > 0 {
		k := len(in)
		if len(sizes) > 0 {
			k = min(sizes[0], k)
			if len(sizes) > 1 {
				sizes = sizes[1:]
			}
		}
		n, done, err := p.Feed([]byte(in[:k]))
		r.n += n
		if err != nil {
			r.errMsg = err.Error()
			return r
		}
		if done {
			r.done = true
			r.resp = *p.Response()
			r.resp.Header = append(Header(nil), r.resp.Header...)
			return r
		}
		in = in[k:]
	}
	return r
}

const upgradeResponse = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n"

func TestResponseParser(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		lim     Limits
		n       int // bytes consumed when done; 0 means len(head)
		status  int
		reason  string
		header  Header
		clen    int64
		wantErr string // substring; "" means success
		partial bool   // incomplete head, no error
	}{
		{name: "101 upgrade", in: upgradeResponse + "\x81\x02hi", n: len(upgradeResponse), status: 101, reason: "Switching Protocols",
			header: Header{{"upgrade", "websocket"}, {"connection", "Upgrade"}, {"sec-websocket-accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="}, {"sec-websocket-protocol", "chat"}}, clen: -1},
		{name: "bare LF", in: "HTTP/1.1 200 OK\nContent-Length: 5\n\nhello", n: 35, status: 200, reason: "OK",
			header: Header{{"content-length", "5"}}, clen: 5},
		{name: "no reason", in: "HTTP/1.1 404\r\n\r\n", status: 404, clen: -1},
		{name: "empty reason", in: "HTTP/1.0 200 \r\nX-A:  b \r\n\r\n", status: 200, header: Header{{"x-a", "b"}}, clen: -1},
		{name: "proxy 200", in: "HTTP/1.1 200 Connection established\r\n\r\n", status: 200, reason: "Connection established", clen: -1},
		{name: "incomplete", in: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n", partial: true},
		{name: "http 2", in: "HTTP/2.0 200 OK\r\n\r\n", wantErr: "unsupported HTTP version"},
		{name: "not http", in: "SSH-2.0-OpenSSH_9.2\r\n\r\n", wantErr: "malformed status line"},
		{name: "two-digit status", in: "HTTP/1.1 99 Odd\r\n\r\n", wantErr: "malformed status line"},
		{name: "status 099", in: "HTTP/1.1 099 Odd\r\n\r\n", wantErr: "invalid status code"},
		{name: "status glued to reason", in: "HTTP/1.1 200OK\r\n\r\n", wantErr: "malformed status line"},
		{name: "control in reason", in: "HTTP/1.1 200 O\x01K\r\n\r\n", wantErr: "reason phrase"},
		{name: "header without colon", in: "HTTP/1.1 101 S\r\nUpgrade websocket\r\n\r\n", wantErr: "header line without colon"},
		{name: "space before colon", in: "HTTP/1.1 101 S\r\nUpgrade : websocket\r\n\r\n", wantErr: "whitespace before colon"},
		{name: "folded line", in: "HTTP/1.1 101 S\r\nUpgrade: a\r\n b\r\n\r\n", wantErr: "obsolete line folding"},
		{name: "CR inside value", in: "HTTP/1.1 101 S\r\nUpgrade: a\rb\r\n\r\n", wantErr: "invalid character in value"},
		{name: "bad content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", wantErr: "Content-Length"},
		{name: "conflicting content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", wantErr: "Content-Length"},
		{name: "empty status line", in: "\r\nHTTP/1.1 200 OK\r\n\r\n", wantErr: "malformed status line"},
		{name: "too long", in: "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", 100) + "\r\n\r\n", lim: Limits{MaxHeaderBytes: 64}, wantErr: "longer than 64 bytes"},
		{name: "too many fields", in: "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", lim: Limits{MaxHeaders: 2}, wantErr: "more than 2 header fields"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			whole := parseRespChunks(tc.in, tc.lim)
			bytewise := parseRespChunks(tc.in, tc.lim, 1)
			uneven := parseRespChunks(tc.in, tc.lim, 3, 7, 1, 50)
			if !reflect.DeepEqual(whole, bytewise) || !reflect.DeepEqual(whole, uneven) {
				t.Fatalf("whole, byte-at-a-time and uneven chunks differ:\n%+v\n%+v\n%+v", whole, bytewise, uneven)
			}
			r := whole
			if tc.wantErr != "" {
				if !strings.Contains(r.errMsg, tc.wantErr) {
					t.Fatalf("error %q, want it to contain %q", r.errMsg, tc.wantErr)
				}
				return
			}
			if r.errMsg != "" {
				t.Fatalf("unexpected error %s", r.errMsg)
			}
			if tc.partial {
				if r.done || r.n != len(tc.in) {
					t.Fatalf("incomplete head: done %v after %d of %d bytes", r.done, r.n, len(tc.in))
				}
				return
			}
			want := tc.n
			if want == 0 {
				want = len(tc.in)
			}
			if !r.done || r.n != want {
				t.Fatalf("done %v after %d bytes, want done after %d", r.done, r.n, want)
			}
			if r.resp.Status != tc.status || r.resp.Reason != tc.reason || r.resp.ContentLength != tc.clen || r.resp.Major != 1 {
				t.Fatalf("got %+v", r.resp)
			}
			if len(tc.header) > 0 && !reflect.DeepEqual(r.resp.Header, tc.header) {
				t.Fatalf("header %q, want %q", r.resp.Header, tc.header)
			}
		})
	}
}

func TestResponseParserResetAndSticky(t *testing.T) {
	var p ResponseParser
	if _, _, err := p.Feed([]byte("HTTP/3.0 200 OK\r\n")); err == nil {
		t.Fatal("HTTP/3.0 accepted")
	}
	if n, done, err := p.Feed([]byte("HTTP/1.1 200 OK\r\n\r\n")); err == nil || done || n != 0 {
		t.Fatalf("error not sticky: n %d done %v err %v", n, done, err)
	}
	p.Reset(Limits{})
	if _, done, err := p.Feed([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n")); !done || err != nil {
		t.Fatalf("after Reset: done %v err %v", done, err)
	}
	if p.Response().Header.Get("Upgrade") != "websocket" {
		t.Fatalf("header %v", p.Response().Header)
	}
	if n, done, err := p.Feed([]byte("more")); n != 0 || !done || err != nil {
		t.Fatalf("Feed after done: %d %v %v", n, done, err)
	}
}

// FuzzResponseParser checks that the parser never panics, that whole,
// byte-at-a-time and split feeding agree, and that an accepted head is
// well-formed.
func FuzzResponseParser(f *testing.F) {
	f.Add([]byte(upgradeResponse))
	f.Add([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 404\nContent-Length: 3\n\nabc"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, lim := range []Limits{{}, {MaxHeaderBytes: 64, MaxHeaders: 3}} {
			in := string(data)
			whole := parseRespChunks(in, lim)
			if bytewise := parseRespChunks(in, lim, 1); !reflect.DeepEqual(whole, bytewise) {
				t.Fatalf("whole and byte-at-a-time differ:\n%+v\n%+v", whole, bytewise)
			}
			if split := parseRespChunks(in, lim, len(in)/3+1); !reflect.DeepEqual(whole, split) {
				t.Fatalf("whole and split differ:\n%+v\n%+v", whole, split)
			}
			if !whole.done {
				continue
			}
			r := whole.resp
			if r.Major != 1 || r.Status < 100 || r.Status > 999 {
				t.Fatalf("bad status line accepted: %+v", r)
			}
			if whole.n > lim.withDefaults().MaxHeaderBytes || !strings.HasSuffix(in[:whole.n], "\n") {
				t.Fatalf("head of %d bytes: %q", whole.n, in[:whole.n])
			}
			for _, fl := range r.Header {
				if fl.Name == "" || !isToken([]byte(fl.Name)) || strings.ToLower(fl.Name) != fl.Name ||
					strings.ContainsAny(fl.Value, "\r\n\x00") || trimOWS(fl.Value) != fl.Value {
					t.Fatalf("bad field accepted: %q", fl)
				}
			}
		}
	})
}
