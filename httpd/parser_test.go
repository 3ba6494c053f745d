package httpd

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// result is what one parse produced, comparable between feeding styles.
type result struct {
	n      int // bytes consumed in total
	done   bool
	status int // 0 if no error
	msg    string
	req    Request
}

func parseWhole(in string, lim Limits) result {
	var p Parser
	p.Reset(lim)
	n, done, err := p.Feed([]byte(in))
	return collect(&p, n, done, err)
}

func parseBytewise(in string, lim Limits) result {
	var p Parser
	p.Reset(lim)
	total := 0
	var (
		done bool
		err  error
	)
	for i := 0; i < len(in) && !done && err == nil; i++ {
		var n int
		n, done, err = p.Feed([]byte{in[i]})
		total += n
	}
	return collect(&p, total, done, err)
}

func collect(p *Parser, n int, done bool, err error) result {
	r := result{n: n, done: done}
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			panic("error is not *Error: " + err.Error())
		}
		r.status, r.msg = e.Status, e.Msg
	}
	if done {
		borrowed := *p.BorrowRequest()
		borrowed.Header = append(Header(nil), borrowed.Header...)
		r.req = *p.Request()
		r.req.Header = append(Header(nil), r.req.Header...)
		if !reflect.DeepEqual(borrowed, r.req) {
			panic(fmt.Sprintf("borrowed request %+v differs from owned %+v", borrowed, r.req))
		}
	}
	return r
}

const upgradeRequest = "GET /chat?room=1 HTTP/1.1\r\n" +
	"Host: server.example.com:7681\r\n" +
	"Upgrade: websocket\r\n" +
	"Connection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
	"Origin: http://example.com\r\n" +
	"Sec-WebSocket-Protocol: lws-mirror-protocol, dumb-increment-protocol\r\n" +
	"Sec-WebSocket-Version: 13\r\n" +
	"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\r\n" +
	"\r\n"

type parserCase struct {
	name   string
	in     string
	lim    Limits
	status int    // expected error status, 0 for success
	msg    string // substring of the error message
	check  func(t *testing.T, r *Request)
	headN  int // expected consumed bytes on success (0 means len(in))
}

func parserCases() []parserCase {
	long := strings.Repeat("a", 200)
	manyHeaders := "GET / HTTP/1.1\r\nHost: h\r\n"
	for i := 0; i < 5; i++ {
		manyHeaders += "X-A: b\r\n"
	}
	manyHeaders += "\r\n"
	return []parserCase{
		{name: "simple", in: "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", check: func(t *testing.T, r *Request) {
			want(t, r.Method, "GET")
			want(t, r.Target, "/")
			want(t, r.Path, "/")
			want(t, r.RawQuery, "")
			want(t, r.Host, "example.com")
			want(t, r.Major, 1)
			want(t, r.Minor, 1)
			want(t, r.KeepAlive, true)
			want(t, r.ContentLength, int64(-1))
			want(t, r.Chunked, false)
			want(t, len(r.Header), 1)
		}},
		{name: "websocket upgrade", in: upgradeRequest, check: func(t *testing.T, r *Request) {
			want(t, r.Path, "/chat")
			want(t, r.RawQuery, "room=1")
			want(t, r.Host, "server.example.com:7681")
			want(t, r.Header.Get("Sec-WebSocket-Key"), "dGhlIHNhbXBsZSBub25jZQ==")
			want(t, r.Header.Get("sec-websocket-version"), "13")
			want(t, r.Header.HasToken("Connection", "upgrade"), true)
			want(t, r.Header.HasToken("upgrade", "WebSocket"), true)
			want(t, r.Header.HasToken("sec-websocket-protocol", "dumb-increment-protocol"), true)
			want(t, r.Header.HasToken("sec-websocket-protocol", "dumb"), false)
			want(t, r.Header[0].Name, "host")
		}},
		{name: "body follows head", in: "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
			headN: len("POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n"),
			check: func(t *testing.T, r *Request) { want(t, r.ContentLength, int64(5)) }},
		{name: "pipelined second request left over", in: "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\n",
			headN: len("GET /a HTTP/1.1\r\nHost: h\r\n\r\n"),
			check: func(t *testing.T, r *Request) { want(t, r.Path, "/a") }},
		{name: "leading empty lines", in: "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
			check: func(t *testing.T, r *Request) { want(t, r.Method, "GET") }},
		{name: "percent-decoded path", in: "GET /a%20b/%C3%A9%2e%2E/?x=%20y HTTP/1.1\r\nHost: h\r\n\r\n",
			check: func(t *testing.T, r *Request) {
				want(t, r.Path, "/a b/\u00e9../")
				want(t, r.RawQuery, "x=%20y")
				want(t, r.Target, "/a%20b/%C3%A9%2e%2E/?x=%20y")
			}},
		{name: "empty query", in: "GET /p? HTTP/1.1\r\nHost: h\r\n\r\n",
			check: func(t *testing.T, r *Request) { want(t, r.Path, "/p"); want(t, r.RawQuery, "") }},
		{name: "absolute form", in: "GET http://other.example:81/x/y?q HTTP/1.1\r\nHost: ignored\r\n\r\n",
			check: func(t *testing.T, r *Request) {
				want(t, r.Host, "other.example:81")
				want(t, r.Path, "/x/y")
				want(t, r.RawQuery, "q")
			}},
		{name: "absolute form no path", in: "GET HTTP://h.example HTTP/1.1\r\nHost: h.example\r\n\r\n",
			check: func(t *testing.T, r *Request) { want(t, r.Path, "/"); want(t, r.Host, "h.example") }},
		{name: "absolute form query only", in: "GET ws://h?a=b HTTP/1.1\r\nHost: h\r\n\r\n",
			check: func(t *testing.T, r *Request) { want(t, r.Path, "/"); want(t, r.RawQuery, "a=b") }},
		{name: "options asterisk", in: "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
			check: func(t *testing.T, r *Request) { want(t, r.Path, "*") }},
		{name: "http/1.0 no host closes", in: "GET / HTTP/1.0\r\n\r\n",
			check: func(t *testing.T, r *Request) { want(t, r.KeepAlive, false); want(t, r.Minor, 0); want(t, r.Host, "") }},
		{name: "http/1.0 keep-alive", in: "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
			check: func(t *testing.T, r *Request) { want(t, r.KeepAlive, true) }},
		{name: "http/1.0 keep-alive and close", in: "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
			check: func(t *testing.T, r *Request) { want(t, r.KeepAlive, false) }},
		{name: "http/1.1 close", in: "GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, CLOSE\r\n\r\n",
			check: func(t *testing.T, r *Request) { want(t, r.KeepAlive, false) }},
		{name: "http/1.1 second connection field", in: "GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nConnection: close\r\n\r\n",
			check: func(t *testing.T, r *Request) { want(t, r.KeepAlive, false) }},
		{name: "http/1.9 treated as 1.x", in: "GET / HTTP/1.9\r\nHost: h\r\n\r\n",
			check: func(t *testing.T, r *Request) { want(t, r.Minor, 9) }},
		{name: "chunked", in: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n",
			check: func(t *testing.T, r *Request) { want(t, r.Chunked, true); want(t, r.ContentLength, int64(-1)) }},
		{name: "chunked with empty list elements", in: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: , chunked ,\r\n\r\n",
			check: func(t *testing.T, r *Request) { want(t, r.Chunked, true) }},
		{name: "content-length repeated identical", in: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 7\r\ncontent-length: 7, 7\r\n\r\n",
			headN: -1, check: func(t *testing.T, r *Request) { want(t, r.ContentLength, int64(7)) }},
		{name: "content-length zero", in: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
			check: func(t *testing.T, r *Request) { want(t, r.ContentLength, int64(0)) }},
		{name: "header whitespace trimmed", in: "GET / HTTP/1.1\r\nHost:\t h \t\r\nX-Empty:\r\nX-Odd: a\tb  c\r\n\r\n",
			check: func(t *testing.T, r *Request) {
				want(t, r.Host, "h")
				want(t, r.Header.Get("x-empty"), "")
				want(t, r.Header.Get("X-ODD"), "a\tb  c")
				want(t, reflect.DeepEqual(r.Header.Values("x-odd"), []string{"a\tb  c"}), true)
				want(t, r.Header.Values("missing") == nil, true)
			}},
		{name: "obs-text in value", in: "GET / HTTP/1.1\r\nHost: h\r\nX-Name: caf\xc3\xa9\r\n\r\n",
			check: func(t *testing.T, r *Request) { want(t, r.Header.Get("x-name"), "caf\u00e9") }},
		{name: "empty host on 1.1", in: "GET / HTTP/1.1\r\nHost:\r\n\r\n",
			check: func(t *testing.T, r *Request) { want(t, r.Host, "") }},
		{name: "ipv6 host", in: "GET / HTTP/1.1\r\nHost: [::1]:7681\r\n\r\n",
			check: func(t *testing.T, r *Request) { want(t, r.Host, "[::1]:7681") }},
		{name: "head exactly at limit", lim: Limits{MaxHeaderBytes: 27}, in: "GET / HTTP/1.1\r\nHost: h\r\n\r\n"},
		{name: "headers exactly at limit", lim: Limits{MaxHeaders: 6}, in: manyHeaders},

		// 400
		{name: "bare LF", in: "GET / HTTP/1.1\nHost: h\r\n\r\n", status: 400, msg: "CRLF"},
		{name: "bare LF in header", in: "GET / HTTP/1.1\r\nHost: h\n\r\n", status: 400, msg: "CRLF"},
		{name: "leading bare LF", in: "\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400, msg: "CRLF"},
		{name: "bare CR in value", in: "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", status: 400, msg: `"a\rb"`},
		{name: "NUL in value", in: "GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n", status: 400, msg: "invalid character"},
		{name: "missing version", in: "GET /\r\nHost: h\r\n\r\n", status: 400, msg: `"GET /"`},
		{name: "no spaces", in: "GET\r\n\r\n", status: 400, msg: "malformed request line"},
		{name: "double space", in: "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
		{name: "trailing space", in: "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", status: 400},
		{name: "extra field in request line", in: "GET / x HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
		{name: "empty method", in: " / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400, msg: "invalid method"},
		{name: "bad method token", in: "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400, msg: `invalid method "G(T"`},
		{name: "bad version", in: "GET / HTTX/1.1\r\nHost: h\r\n\r\n", status: 400, msg: `"HTTX/1.1"`},
		{name: "version lower case", in: "GET / http/1.1\r\nHost: h\r\n\r\n", status: 400},
		{name: "version no minor", in: "GET / HTTP/1\r\nHost: h\r\n\r\n", status: 400},
		{name: "version two digits", in: "GET / HTTP/1.10\r\nHost: h\r\n\r\n", status: 400},
		{name: "target relative", in: "GET index.html HTTP/1.1\r\nHost: h\r\n\r\n", status: 400, msg: `"index.html"`},
		{name: "target fragment", in: "GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
		{name: "target non-ascii", in: "GET /\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
		{name: "target control", in: "GET /\x01 HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
		{name: "asterisk with GET", in: "GET * HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
		{name: "absolute form userinfo", in: "GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n", status: 400, msg: "authority"},
		{name: "absolute form empty authority", in: "GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
		{name: "percent NUL", in: "GET /a%00b HTTP/1.1\r\nHost: h\r\n\r\n", status: 400, msg: "NUL"},
		{name: "percent malformed", in: "GET /a%zzb HTTP/1.1\r\nHost: h\r\n\r\n", status: 400, msg: `"/a%zzb"`},
		{name: "percent truncated", in: "GET /a%2 HTTP/1.1\r\nHost: h\r\n\r\n", status: 400, msg: "percent"},
		{name: "percent at end", in: "GET /a% HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
		{name: "header without colon", in: "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", status: 400, msg: `"NoColon"`},
		{name: "empty header name", in: "GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", status: 400},
		{name: "space before colon", in: "GET / HTTP/1.1\r\nHost : h\r\n\r\n", status: 400, msg: "whitespace before colon"},
		{name: "invalid name char", in: "GET / HTTP/1.1\r\nHost: h\r\nX(Y): v\r\n\r\n", status: 400, msg: `"X(Y)"`},
		{name: "space in name", in: "GET / HTTP/1.1\r\nHost: h\r\nX Y: v\r\n\r\n", status: 400},
		{name: "obs-fold", in: "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", status: 400, msg: "folding"},
		{name: "obs-fold tab", in: "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", status: 400, msg: "folding"},
		{name: "missing host 1.1", in: "GET / HTTP/1.1\r\nX: y\r\n\r\n", status: 400, msg: "missing Host"},
		{name: "missing host absolute form", in: "GET http://h/ HTTP/1.1\r\n\r\n", status: 400, msg: "missing Host"},
		{name: "duplicate host", in: "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", status: 400, msg: "multiple Host"},
		{name: "bad host", in: "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", status: 400, msg: `"a b"`},
		{name: "host with slash", in: "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", status: 400},
		{name: "cl and te", in: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", status: 400, msg: "both"},
		{name: "te and cl", in: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", status: 400, msg: "both"},
		{name: "cl negative", in: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", status: 400, msg: `"-1"`},
		{name: "cl plus", in: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\n", status: 400},
		{name: "cl empty", in: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", status: 400},
		{name: "cl hex", in: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n", status: 400},
		{name: "cl overflow", in: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n", status: 400},
		{name: "cl list different", in: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1, 2\r\n\r\n", status: 400},
		{name: "cl duplicate different", in: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", status: 400, msg: "conflicting"},
		{name: "cl list empty element", in: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1,\r\n\r\n", status: 400},
		{name: "te chunked twice", in: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", status: 400},
		{name: "te chunked then second field", in: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", status: 400},
		{name: "te empty", in: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n", status: 400},
		{name: "te on http/1.0", in: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", status: 400, msg: "HTTP/1.0"},

		// 501
		{name: "te gzip", in: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", status: 501, msg: `"gzip"`},
		{name: "te identity", in: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n", status: 501},
		{name: "te chunked with params", in: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked;x=1\r\n\r\n", status: 501},
		{name: "connect", in: "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n", status: 501},

		// 505
		{name: "http/2.0", in: "GET / HTTP/2.0\r\nHost: h\r\n\r\n", status: 505, msg: `"HTTP/2.0"`},
		{name: "h2 preface", in: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", status: 505},
		{name: "http/0.9 version", in: "GET / HTTP/0.9\r\n\r\n", status: 505},

		// 414 / 431
		{name: "request line too long", lim: Limits{MaxHeaderBytes: 64}, in: "GET /" + long + " HTTP/1.1\r\nHost: h\r\n\r\n", status: 414, msg: "request line"},
		{name: "request line one over", lim: Limits{MaxHeaderBytes: 15}, in: "GET / HTTP/1.1\r\nHost: h\r\n\r\n", status: 414},
		{name: "leading empty lines too many", lim: Limits{MaxHeaderBytes: 16}, in: strings.Repeat("\r\n", 20) + "GET / HTTP/1.1\r\n\r\n", status: 414},
		{name: "head too long", lim: Limits{MaxHeaderBytes: 64}, in: "GET / HTTP/1.1\r\nHost: h\r\nX-Long: " + long + "\r\n\r\n", status: 431, msg: "head longer"},
		{name: "head one over", lim: Limits{MaxHeaderBytes: 26}, in: "GET / HTTP/1.1\r\nHost: h\r\n\r\n", status: 431},
		{name: "too many headers", lim: Limits{MaxHeaders: 5}, in: manyHeaders, status: 431, msg: "more than 5 header fields"},
		{name: "default header count limit", in: "GET / HTTP/1.1\r\n" + strings.Repeat("A: b\r\n", 65) + "\r\n", status: 431},
		{name: "default size limit", in: "GET / HTTP/1.1\r\nHost: h\r\nX: " + strings.Repeat("v", 8200) + "\r\n\r\n", status: 431},
		{name: "error before limit wins", lim: Limits{MaxHeaderBytes: 32}, in: "GET / HTTP/1.1\r\nBad Name: x\r\n" + long, status: 400},
	}
}

func want[T comparable](t *testing.T, got, exp T) {
	t.Helper()
	if got != exp {
		t.Errorf("got %#v, want %#v", got, exp)
	}
}

func TestParser(t *testing.T) {
	for _, tc := range parserCases() {
		t.Run(tc.name, func(t *testing.T) {
			whole := parseWhole(tc.in, tc.lim)
			bytewise := parseBytewise(tc.in, tc.lim)
			if !reflect.DeepEqual(whole, bytewise) {
				t.Fatalf("whole and byte-at-a-time differ:\nwhole:    %+v\nbytewise: %+v", whole, bytewise)
			}
			r := whole
			if tc.status != 0 {
				if r.status != tc.status {
					t.Fatalf("status %d (%s), want %d", r.status, r.msg, tc.status)
				}
				if !strings.Contains(r.msg, tc.msg) {
					t.Fatalf("message %q does not contain %q", r.msg, tc.msg)
				}
				return
			}
			if r.status != 0 || !r.done {
				t.Fatalf("not done: status %d %s", r.status, r.msg)
			}
			wantN := tc.headN
			if wantN <= 0 {
				wantN = len(tc.in)
			}
			if r.n != wantN {
				t.Fatalf("consumed %d, want %d", r.n, wantN)
			}
			if tc.check != nil {
				tc.check(t, &r.req)
			}
		})
	}
}

func TestParserIncomplete(t *testing.T) {
	in := "GET / HTTP/1.1\r\nHost: h\r\n\r"
	var p Parser
	n, done, err := p.Feed([]byte(in))
	if n != len(in) || done || err != nil {
		t.Fatalf("Feed = %d, %v, %v", n, done, err)
	}
	if p.Request() != nil {
		t.Fatal("Request before done")
	}
	n, done, err = p.Feed([]byte("\nBODY"))
	if n != 1 || !done || err != nil {
		t.Fatalf("Feed = %d, %v, %v", n, done, err)
	}
	if n, done, err = p.Feed([]byte("more")); n != 0 || !done || err != nil {
		t.Fatalf("Feed after done = %d, %v, %v", n, done, err)
	}
	if n, done, err = p.Feed(nil); n != 0 || !done || err != nil {
		t.Fatalf("Feed(nil) after done = %d, %v, %v", n, done, err)
	}
}

func TestParserErrorSticky(t *testing.T) {
	var p Parser
	_, _, err1 := p.Feed([]byte("GET / HTTP/3.0\r\n"))
	_, _, err2 := p.Feed([]byte("Host: h\r\n\r\n"))
	if err1 == nil || err1 != err2 {
		t.Fatalf("errors %v, %v: want the same sticky error", err1, err2)
	}
	want(t, err1.Error(), `httpd: 505 HTTP Version Not Supported: unsupported HTTP version "HTTP/3.0"`)
}

func TestParserErrorQuoteTruncated(t *testing.T) {
	long := strings.Repeat("x", 500)
	r := parseWhole("GET / HTTP/1.1\r\nHost: h\r\n"+long+"\r\n\r\n", Limits{})
	want(t, r.status, 400)
	if len(r.msg) > 150 || !strings.Contains(r.msg, `xxx"...`) {
		t.Fatalf("message not truncated: %q", r.msg)
	}
}

func TestParserReset(t *testing.T) {
	var p Parser
	in := "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b%41 HTTP/1.0\r\nX-B: 1\r\n\r\n"
	n, done, err := p.Feed([]byte(in))
	if !done || err != nil {
		t.Fatal(done, err)
	}
	first := *p.Request()
	want(t, first.Path, "/a")
	p.Reset(Limits{})
	n2, done, err := p.Feed([]byte(in[n:]))
	if !done || err != nil || n+n2 != len(in) {
		t.Fatal(n2, done, err)
	}
	r := p.Request()
	want(t, r.Path, "/bA")
	want(t, r.Header.Get("x-b"), "1")
	want(t, r.Header.Get("host"), "")
	want(t, len(r.Header), 1)
	// Strings of the first request are not overwritten by the second.
	want(t, first.Path, "/a")

	// Reset after an error clears it.
	p.Reset(Limits{})
	if _, _, err := p.Feed([]byte("BAD\r\n")); err == nil {
		t.Fatal("want error")
	}
	p.Reset(Limits{})
	if _, done, err := p.Feed([]byte("GET / HTTP/1.0\r\n\r\n")); !done || err != nil {
		t.Fatal(done, err)
	}
}

func TestParserAllocs(t *testing.T) {
	var p Parser
	in := []byte(upgradeRequest)
	// Parsing and borrowing allocate nothing; Request allocates once, the
	// string shared by every field.
	for _, tc := range []struct {
		name    string
		request func() *Request
		want    float64
	}{{"BorrowRequest", p.BorrowRequest, 0}, {"Request", p.Request, 1}} {
		got := testing.AllocsPerRun(100, func() {
			p.Reset(Limits{})
			if _, done, err := p.Feed(in); !done || err != nil || tc.request() == nil {
				t.Fatal(done, err)
			}
		})
		if got != tc.want {
			t.Errorf("parse with %s: %v allocations, want %v", tc.name, got, tc.want)
		}
	}
}

// TestParserBorrowRequest: a borrowed Request parses like an owned one,
// its strings alias the buffer until Request makes them the Request's own,
// and owned strings survive the next head.
func TestParserBorrowRequest(t *testing.T) {
	const in = "GET http://Example.com:81/a%41b?q=1 HTTP/1.1\r\nHost: other\r\nX-A: one\r\n\r\n"
	// next is longer than in: parsed first, it sizes the buffer, so that
	// parsed after in it overwrites all of in.
	const next = "PUT /zzzzzzzzzz?r=2 HTTP/1.1\r\nHost: zzzzz\r\nX-Z: two\r\nX-Pad: zzzzzzzzzzzzzzzzzzzzzzzzzzzz\r\n\r\n"
	var p Parser
	for _, head := range []string{next, in} {
		p.Reset(Limits{})
		if _, done, err := p.Feed([]byte(head)); !done || err != nil {
			t.Fatal(done, err)
		}
	}
	b := p.BorrowRequest()
	wantOwned := parseWhole(in, Limits{}).req
	got := *b
	got.Header = append(Header(nil), b.Header...)
	if !reflect.DeepEqual(got, wantOwned) {
		t.Fatalf("borrowed %+v\nowned    %+v", got, wantOwned)
	}
	want(t, b.Path, "/aAb")
	want(t, b.Host, "Example.com:81")

	// Borrowed strings are overwritten by the next head.
	borrowedPath, borrowedValue := b.Path, b.Header.Get("x-a")
	p.Reset(Limits{})
	if _, done, err := p.Feed([]byte(next)); !done || err != nil {
		t.Fatal(done, err)
	}
	if borrowedPath == "/aAb" || borrowedValue == "one" {
		t.Fatal("borrowed strings do not alias the parser's buffer")
	}

	// Request turns the same borrowed Request into an owned one.
	b = p.BorrowRequest()
	r := p.Request()
	if r != b {
		t.Fatal("Request after BorrowRequest is another Request")
	}
	if p.Request() != r {
		t.Fatal("second Request call returned another Request")
	}
	path, host, value := r.Path, r.Host, r.Header.Get("x-z")
	p.Reset(Limits{})
	if _, done, err := p.Feed([]byte(in)); !done || err != nil {
		t.Fatal(done, err)
	}
	want(t, path, "/zzzzzzzzzz")
	want(t, host, "zzzzz")
	want(t, value, "two")
}

func TestHeaderHasToken(t *testing.T) {
	h := Header{{"connection", "keep-alive, Upgrade"}, {"upgrade", "websocket"}, {"x", " a ,, b "}}
	cases := []struct {
		name, token string
		ok          bool
	}{
		{"Connection", "upgrade", true},
		{"connection", "keep-alive", true},
		{"connection", "close", false},
		{"connection", "keep", false},
		{"UPGRADE", "WebSocket", true},
		{"x", "a", true},
		{"x", "b", true},
		{"x", "", false}, // empty list elements never match
		{"missing", "a", false},
	}
	for _, c := range cases {
		if got := h.HasToken(c.name, c.token); got != c.ok {
			t.Errorf("HasToken(%q, %q) = %v", c.name, c.token, got)
		}
	}
}

func BenchmarkParseUpgradeRequest(b *testing.B) {
	in := []byte(upgradeRequest)
	var p Parser
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		p.Reset(Limits{})
		if _, done, err := p.Feed(in); !done || err != nil {
			b.Fatal(done, err)
		}
	}
}

func BenchmarkParseUpgradeRequestBytewise(b *testing.B) {
	in := []byte(upgradeRequest)
	var p Parser
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		p.Reset(Limits{})
		for i := range in {
			if _, done, err := p.Feed(in[i : i+1]); done || err != nil {
				if err != nil {
					b.Fatal(err)
				}
				break
			}
		}
	}
}
