package lws_test

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lws-go/lws"
)

// requestHandshake sends a handshake for path with the extra header lines
// (each ending in CRLF) to addr and reads the response; for a 101 the
// connection is ready for frames.
func requestHandshake(t *testing.T, addr, path, extra string) (*rawConn, *http.Response) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	req := "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n" + extra + "\r\n"
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatalf("write handshake: %v", err)
	}
	rc := &rawConn{Conn: c, r: bufio.NewReader(c)}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(rc.r, nil)
	if err != nil {
		t.Fatalf("read handshake response: %v", err)
	}
	c.SetReadDeadline(time.Time{})
	return rc, resp
}

// readText reads one frame and returns its payload.
func readText(t *testing.T, rc *rawConn) string {
	t.Helper()
	f, err := rc.readFrame(t)
	if err != nil {
		t.Fatalf("read frame: %v", err)
	}
	return string(f.payload)
}

type member struct{ name string }

// greeter greets its connections in OnEstablished with what it learned
// there: the user value, the request's header field and cookie.
func greeter(name string) *lws.Protocol {
	return &lws.Protocol{
		Name: name,
		OnEstablished: func(c *lws.Conn) {
			who := "nobody"
			if m := lws.UserOf[*member](c); m != nil {
				who = m.name
			}
			r := c.Request()
			session := "-"
			if ck, err := r.Cookie("session"); err == nil {
				session = ck.Value
			}
			c.Write([]byte(name+" greets "+who+" client="+r.Header.Get("X-Client")+" session="+session), lws.WriteText)
		},
	}
}

// A middleware authenticates, sets response header fields on w and
// upgrades with the user: OnEstablished finds the user value and the
// request; the 101 carries the fields set on w, and not those of one hop.
func TestUpgradeWithUserAndResponseHeader(t *testing.T) {
	chat := greeter("chat")
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{chat}})
	upgradeErr := make(chan error, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("token") != "secret" {
			http.Error(w, "who are you?", http.StatusUnauthorized)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "s-42", HttpOnly: true})
		w.Header().Set("X-Trace", "t-1")
		w.Header().Set("Connection", "close")       // of one hop: not copied
		w.Header().Set("Content-Length", "12")      // a 101 has no body
		w.Header().Set("Sec-WebSocket-Accept", "x") // the handshake's own
		upgradeErr <- svc.UpgradeWith(w, r, lws.UpgradeOptions{User: &member{"alice"}})
	}))
	defer ts.Close()
	addr := ts.Listener.Addr().String()

	rc, resp := requestHandshake(t, addr, "/chat?token=secret", "X-Client: test-1\r\nCookie: session=old\r\n")
	if err := <-upgradeErr; err != nil {
		t.Fatalf("UpgradeWith: %v", err)
	}
	if resp.StatusCode != 101 {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
	if got := resp.Header.Values("Set-Cookie"); len(got) != 1 || got[0] != "session=s-42; HttpOnly" {
		t.Errorf("Set-Cookie %q, want the one set on w", got)
	}
	if got := resp.Header.Get("X-Trace"); got != "t-1" {
		t.Errorf("X-Trace %q, want t-1", got)
	}
	if got := resp.Header.Values("Connection"); len(got) != 1 || got[0] != "Upgrade" {
		t.Errorf("Connection %q, want only the handshake's", got)
	}
	if got := resp.Header.Values("Sec-WebSocket-Accept"); len(got) != 1 || got[0] != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Errorf("Sec-WebSocket-Accept %q, want only the handshake's", got)
	}
	if _, ok := resp.Header["Content-Length"]; ok {
		t.Errorf("101 response with Content-Length %q", resp.Header.Get("Content-Length"))
	}
	if got, want := readText(t, rc), "chat greets alice client=test-1 session=old"; got != want {
		t.Errorf("greeting %q, want %q", got, want)
	}

	// Without the token the middleware answers by itself.
	_, resp = requestHandshake(t, addr, "/chat", "")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without the token: status %d, want 401", resp.StatusCode)
	}
}

// A field set on w that would inject header lines (CR or LF in its value,
// a name that is not a token) refuses the upgrade with 500 instead of
// reaching the 101.
func TestUpgradeRefusesHeaderInjection(t *testing.T) {
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{greeter("chat")}})
	for _, tc := range []struct {
		name   string
		values []string
	}{
		{"X-Name", []string{"alice\r\nSet-Cookie: admin=1"}},
		{"X-Name", []string{"ok", "alice\nSet-Cookie: admin=1"}},
		{"X-Name", []string{"nul\x00"}},
		{"X-Evil\r\nSet-Cookie: admin", []string{"1"}},
		{"X Name", []string{"1"}},
	} {
		upgradeErr := make(chan error, 1)
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header()[tc.name] = tc.values
			upgradeErr <- svc.Upgrade(w, r)
		}))
		_, resp := requestHandshake(t, ts.Listener.Addr().String(), "/", "")
		err := <-upgradeErr
		ts.Close()
		var ue *lws.UpgradeError
		if !errors.As(err, &ue) || ue.Status != 500 {
			t.Errorf("field %q = %q: Upgrade returned %v, want an UpgradeError with 500", tc.name, tc.values, err)
		}
		if resp.StatusCode != 500 {
			t.Errorf("field %q = %q: status %d, want 500", tc.name, tc.values, resp.StatusCode)
		}
		if v := resp.Header.Values("Set-Cookie"); len(v) != 0 {
			t.Errorf("field %q = %q: injected Set-Cookie %q", tc.name, tc.values, v)
		}
	}
}

// UpgradeOptions.Protocol binds the route's protocol, whatever the path
// and Protocol.Path; a subprotocol list must still name it.
func TestUpgradeWithProtocol(t *testing.T) {
	chat, feed := greeter("chat"), greeter("feed")
	feed.Path = "/elsewhere"
	other := greeter("other") // not in Config.Protocols
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{chat, feed}})
	mux := http.NewServeMux()
	mux.HandleFunc("/feed", func(w http.ResponseWriter, r *http.Request) {
		svc.UpgradeWith(w, r, lws.UpgradeOptions{Protocol: feed})
	})
	mux.HandleFunc("/other", func(w http.ResponseWriter, r *http.Request) {
		svc.UpgradeWith(w, r, lws.UpgradeOptions{Protocol: other})
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()
	addr := ts.Listener.Addr().String()

	for _, tc := range []struct {
		path, offer string
		status      int
		greeting    string
	}{
		{"/feed", "", 101, "feed greets nobody client= session=-"},
		{"/feed", "Sec-WebSocket-Protocol: chat, feed\r\n", 101, "feed greets nobody client= session=-"},
		{"/feed", "Sec-WebSocket-Protocol: chat\r\n", 400, ""},
		{"/other", "", 101, "other greets nobody client= session=-"},
	} {
		rc, resp := requestHandshake(t, addr, tc.path, tc.offer)
		if resp.StatusCode != tc.status {
			t.Errorf("%s offering %q: status %d, want %d", tc.path, tc.offer, resp.StatusCode, tc.status)
			continue
		}
		if tc.status != 101 {
			continue
		}
		if tc.offer != "" && resp.Header.Get("Sec-WebSocket-Protocol") != "feed" {
			t.Errorf("%s offering %q: Sec-WebSocket-Protocol %q, want feed", tc.path, tc.offer, resp.Header.Get("Sec-WebSocket-Protocol"))
		}
		if got := readText(t, rc); got != tc.greeting {
			t.Errorf("%s offering %q: greeting %q, want %q", tc.path, tc.offer, got, tc.greeting)
		}
	}
}

// Protocol.Path routes native handshakes and net/http ones through
// Service.Handler alike: the exact path first, then the longest subtree,
// then the protocols without a path; the subprotocol list chooses among
// those only; a path nothing serves gets 404.
func TestProtocolPathRouting(t *testing.T) {
	chat, chat2, feed, files, deep := greeter("chat"), greeter("chat2"), greeter("feed"), greeter("files"), greeter("deep")
	feed.Path, files.Path, deep.Path = "/feed", "/files/", "/files/deep/"
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{chat, chat2, feed, files, deep}})
	onlyRoutes := startService(t, lws.Config{Protocols: []*lws.Protocol{feed}})
	ts := httptest.NewServer(svc.Handler())
	defer ts.Close()

	cases := []struct {
		svc         *lws.Service
		path, offer string
		status      int
		protocol    string
	}{
		{svc, "/feed", "", 101, "feed"},
		{svc, "/feed?x=1", "", 101, "feed"},
		{svc, "/feed", "chat, feed", 101, "feed"},
		{svc, "/feed", "chat", 400, ""},
		{svc, "/", "", 101, "chat"},
		{svc, "/feed/more", "", 101, "chat"},
		{svc, "/other", "chat2", 101, "chat2"},
		{svc, "/files", "", 101, "chat"},
		{svc, "/files/", "", 101, "files"},
		{svc, "/files/a/b", "", 101, "files"},
		{svc, "/files/deep/x", "", 101, "deep"},
		{svc, "/files/deep/x", "files", 400, ""},
		{onlyRoutes, "/feed", "", 101, "feed"},
		{onlyRoutes, "/", "", 404, ""},
		{onlyRoutes, "/feeds", "feed", 404, ""},
	}
	for _, tc := range cases {
		offer := ""
		if tc.offer != "" {
			offer = "Sec-WebSocket-Protocol: " + tc.offer + "\r\n"
		}
		addrs := []string{tc.svc.Addr().String()}
		if tc.svc == svc {
			addrs = append(addrs, ts.Listener.Addr().String())
		}
		for _, addr := range addrs {
			rc, resp := requestHandshake(t, addr, tc.path, offer)
			if resp.StatusCode != tc.status {
				t.Errorf("%s %s offering %q: status %d, want %d", addr, tc.path, tc.offer, resp.StatusCode, tc.status)
				continue
			}
			if tc.status != 101 {
				continue
			}
			want := tc.protocol + " greets nobody client= session=-"
			if got := readText(t, rc); got != want {
				t.Errorf("%s %s offering %q: greeting %q, want %q", addr, tc.path, tc.offer, got, want)
			}
		}
	}
}

// Conn.Request gives OnEstablished the handshake request, with strings of
// its own that later handshakes (reusing the parser's buffer) leave
// alone; outside OnEstablished it is nil.
func TestConnRequestInOnEstablished(t *testing.T) {
	requests := make(chan *http.Request, 2)
	later := make(chan bool, 2)
	p := &lws.Protocol{
		Name:          "p",
		OnEstablished: func(c *lws.Conn) { requests <- c.Request() },
		OnReceive:     func(c *lws.Conn, _ []byte) { later <- c.Request() == nil },
	}
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{p}})
	addr := svc.Addr().String()

	rc, resp := requestHandshake(t, addr, "/room/1?x=%20y", "X-Client: first\r\nCookie: session=abc; theme=dark\r\nX-Multi: a\r\nX-Multi: b\r\n")
	if resp.StatusCode != 101 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	r := <-requests
	rc.Write(frame(0x81, key1, []byte("x")))
	if !<-later {
		t.Errorf("Request is not nil in OnReceive")
	}
	// A second handshake of the same length overwrites the first one's
	// head in the reused buffer.
	_, resp = requestHandshake(t, addr, "/room/2?x=%20z", "X-Client: secnd\r\nCookie: session=xyz; theme=lite\r\nX-Multi: c\r\nX-Multi: d\r\n")
	if resp.StatusCode != 101 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	<-requests

	ck, err := r.Cookie("session")
	switch {
	case r.Method != "GET" || r.URL.Path != "/room/1" || r.URL.Query().Get("x") != " y" || r.RequestURI != "/room/1?x=%20y":
		t.Errorf("request %s %q (path %q, query %q)", r.Method, r.RequestURI, r.URL.Path, r.URL.RawQuery)
	case r.Host != "localhost" || r.Proto != "HTTP/1.1" || r.RemoteAddr != rc.LocalAddr().String():
		t.Errorf("Host %q, Proto %q, RemoteAddr %q (client %v)", r.Host, r.Proto, r.RemoteAddr, rc.LocalAddr())
	case r.Header.Get("X-Client") != "first" || strings.Join(r.Header.Values("X-Multi"), ",") != "a,b":
		t.Errorf("header %v", r.Header)
	case err != nil || ck.Value != "abc":
		t.Errorf("cookie session: %v, %v", ck, err)
	}
}

// The user value and UserOf: zero before SetUser, the value after, and a
// panic (closing with 1011) for a value of another type.
func TestUserOf(t *testing.T) {
	type result struct {
		before *member
		after  string
	}
	results := make(chan result, 1)
	p := &lws.Protocol{
		Name: "p",
		OnEstablished: func(c *lws.Conn) {
			before := lws.UserOf[*member](c)
			c.SetUser(&member{"bob"})
			results <- result{before, lws.UserOf[*member](c).name}
		},
		OnReceive: func(c *lws.Conn, _ []byte) {
			c.SetUser("a string")
			lws.UserOf[*member](c)
		},
	}
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{p}})
	rc := dialWS(t, svc, "")
	if r := <-results; r.before != nil || r.after != "bob" {
		t.Errorf("UserOf before SetUser %v, after %q", r.before, r.after)
	}
	rc.Write(frame(0x81, key1, []byte("x")))
	if code, _ := rc.expectClose(t); code != 1011 {
		t.Errorf("UserOf of a value of another type: closed with %d, want 1011", code)
	}
}
