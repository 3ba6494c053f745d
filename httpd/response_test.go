package httpd

import (
	"strconv"
	"strings"
	"testing"
)

func TestAppendResponseHead(t *testing.T) {
	cases := []struct {
		name string
		got  []byte
		want string
	}{
		{"200 keep-alive", AppendResponseHead(nil, 200, "text/html; charset=utf-8", 12, true),
			"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 12\r\nConnection: keep-alive\r\n\r\n"},
		{"404 close no type", AppendResponseHead([]byte("x"), 404, "", 0, false),
			"xHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"},
		{"101 upgrade", AppendResponseHead(nil, 101, "", -1, true,
			Field{"Upgrade", "websocket"}, Field{"Connection", "Upgrade"}, Field{"Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="}),
			"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"},
		{"extra connection overrides", AppendResponseHead(nil, 200, "", -1, true, Field{"connection", "upgrade"}),
			"HTTP/1.1 200 OK\r\nconnection: upgrade\r\n\r\n"},
		{"unknown status", AppendResponseHead(nil, 599, "", -1, false),
			"HTTP/1.1 599 \r\nConnection: close\r\n\r\n"},
		{"invalid status", AppendResponseHead(nil, 42, "", -1, false),
			"HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n\r\n"},
		{"response splitting", AppendResponseHead(nil, 200, "a\r\nX-Evil: 1", -1, false, Field{"X\n", "v\r\nSet-Cookie: x"}),
			"HTTP/1.1 200 OK\r\nContent-Type: a  X-Evil: 1\r\nConnection: close\r\nX : v  Set-Cookie: x\r\n\r\n"},
	}
	for _, c := range cases {
		if string(c.got) != c.want {
			t.Errorf("%s:\ngot  %q\nwant %q", c.name, c.got, c.want)
		}
	}
}

func TestAppendErrorResponse(t *testing.T) {
	got := string(AppendErrorResponse(nil, 404, `no "<file>"`))
	head, body, ok := strings.Cut(got, "\r\n\r\n")
	if !ok {
		t.Fatalf("no head end: %q", got)
	}
	wantHead := "HTTP/1.1 404 Not Found\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\nConnection: close"
	want(t, head, wantHead)
	if !strings.Contains(body, "<title>404 Not Found</title>") || !strings.Contains(body, "no &#34;&lt;file&gt;&#34;") {
		t.Fatalf("body %q", body)
	}
	if strings.Contains(body, "<file>") {
		t.Fatal("message not escaped")
	}
	// The parser's errors round-trip into a response.
	r := parseWhole("GET / HTTP/1.1\r\n\r\n", Limits{})
	resp := string(AppendErrorResponse(nil, r.status, r.msg))
	if !strings.HasPrefix(resp, "HTTP/1.1 400 Bad Request\r\n") {
		t.Fatalf("%q", resp)
	}
}

func TestStatusText(t *testing.T) {
	for code, text := range map[int]string{
		101: "Switching Protocols", 200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
		414: "URI Too Long", 426: "Upgrade Required", 431: "Request Header Fields Too Large",
		501: "Not Implemented", 503: "Service Unavailable", 505: "HTTP Version Not Supported", 999: "",
	} {
		want(t, StatusText(code), text)
	}
}

func BenchmarkAppendResponseHead(b *testing.B) {
	buf := make([]byte, 0, 256)
	extra := []Field{{"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="}}
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendResponseHead(buf[:0], 101, "", -1, true, extra...)
	}
}
