package lws_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/wsproto"
)

// connectProxy is an HTTP CONNECT proxy: it answers 407 without the
// expected credentials (when auth is set), maps the host name
// "lws-test.invalid" to 127.0.0.1, and splices bytes both ways.
type connectProxy struct {
	ln      net.Listener
	auth    string // "user:password", or "" for none
	mu      sync.Mutex
	targets []string // CONNECT targets seen
	conns   []net.Conn
	wg      sync.WaitGroup
}

func startProxy(t *testing.T, auth string) *connectProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &connectProxy{ln: ln, auth: auth}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.track(c)
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.serve(t, c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *connectProxy) track(c net.Conn) {
	p.mu.Lock()
	p.conns = append(p.conns, c)
	p.mu.Unlock()
}

func (p *connectProxy) URL() string { return "http://" + p.ln.Addr().String() }

func (p *connectProxy) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.targets...)
}

func (p *connectProxy) serve(t *testing.T, c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	p.mu.Lock()
	p.targets = append(p.targets, req.Method+" "+req.RequestURI)
	p.mu.Unlock()
	if req.Method != "CONNECT" {
		io.WriteString(c, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
		return
	}
	if p.auth != "" && req.Header.Get("Proxy-Authorization") != "Basic "+base64.StdEncoding.EncodeToString([]byte(p.auth)) {
		io.WriteString(c, "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n")
		return
	}
	host, port, err := net.SplitHostPort(req.RequestURI)
	if err != nil {
		io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
		return
	}
	if host == "lws-test.invalid" {
		host = "127.0.0.1"
	}
	up, err := net.DialTimeout("tcp", net.JoinHostPort(host, port), 10*time.Second)
	if err != nil {
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
		return
	}
	p.track(up)
	defer up.Close()
	io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
	done := make(chan struct{})
	go func() {
		io.Copy(up, br)
		up.(*net.TCPConn).CloseWrite()
		close(done)
	}()
	io.Copy(c, up)
	c.(*net.TCPConn).CloseWrite()
	<-done
}

// echoThrough dials url with opts and exchanges one message.
func echoThrough(t *testing.T, url string, opts *lws.DialOptions) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cc, err := lws.Dial(ctx, url, opts)
	if err != nil {
		return err
	}
	defer cc.Close(wsproto.CloseNormal, "")
	if err := cc.WriteMessage(ctx, lws.WriteText, []byte("through the tunnel")); err != nil {
		return err
	}
	_, got, err := cc.ReadMessage(ctx)
	if err != nil {
		return err
	}
	if string(got) != "through the tunnel" {
		return fmt.Errorf("echo came back as %q", got)
	}
	return nil
}

// TestDialThroughProxy tunnels a connection through a CONNECT proxy given
// as an option, with and without credentials, and taken from the
// environment (http_proxy, no_proxy).
func TestDialThroughProxy(t *testing.T) {
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{wholeEcho("echo")}})
	port := svc.Port()

	t.Run("option", func(t *testing.T) {
		p := startProxy(t, "")
		if err := echoThrough(t, wsURL(svc, "/"), &lws.DialOptions{Proxy: p.URL()}); err != nil {
			t.Fatal(err)
		}
		if got, want := p.seen(), []string{fmt.Sprintf("CONNECT 127.0.0.1:%d", port)}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("proxy saw %q, want %q", got, want)
		}
	})

	t.Run("credentials", func(t *testing.T) {
		p := startProxy(t, "alice:s3cret")
		err := echoThrough(t, wsURL(svc, "/"), &lws.DialOptions{Proxy: p.URL()})
		if err == nil || !strings.Contains(err.Error(), "407 Proxy Authentication Required") {
			t.Fatalf("without credentials: %v, want the proxy's 407", err)
		}
		withAuth := strings.Replace(p.URL(), "http://", "http://alice:s3cret@", 1)
		if err := echoThrough(t, wsURL(svc, "/"), &lws.DialOptions{Proxy: withAuth}); err != nil {
			t.Fatalf("with credentials: %v", err)
		}
	})

	t.Run("environment", func(t *testing.T) {
		p := startProxy(t, "")
		t.Setenv("HTTP_PROXY", p.URL())
		t.Setenv("NO_PROXY", "example.org")
		// Only the proxy knows this name: a direct connection cannot work.
		url := fmt.Sprintf("ws://lws-test.invalid:%d/", port)
		if err := echoThrough(t, url, nil); err != nil {
			t.Fatalf("through $HTTP_PROXY: %v", err)
		}
		// Loopback is never proxied from the environment.
		if err := echoThrough(t, wsURL(svc, "/"), nil); err != nil {
			t.Fatalf("loopback: %v", err)
		}
		if n := len(p.seen()); n != 1 {
			t.Fatalf("proxy saw %d requests (%q), want 1", n, p.seen())
		}
		// no_proxy and DialOptions.NoProxy make the connection direct.
		t.Setenv("NO_PROXY", ".invalid")
		if err := echoThrough(t, url, nil); err == nil {
			t.Fatal("with no_proxy matching, the dial still reached the server")
		}
		t.Setenv("NO_PROXY", "")
		if err := echoThrough(t, url, &lws.DialOptions{NoProxy: true}); err == nil {
			t.Fatal("with NoProxy, the dial still reached the server")
		}
		if n := len(p.seen()); n != 1 {
			t.Fatalf("proxy used despite no_proxy / NoProxy: %q", p.seen())
		}
	})

	t.Run("refused", func(t *testing.T) {
		p := startProxy(t, "")
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		dead := ln.Addr().String()
		ln.Close()
		err := echoThrough(t, "ws://"+dead+"/", &lws.DialOptions{Proxy: p.URL()})
		if err == nil || !strings.Contains(err.Error(), "refused CONNECT to "+dead+": 502 Bad Gateway") {
			t.Fatalf("got %v, want the proxy's 502", err)
		}
		if err := echoThrough(t, wsURL(svc, "/"), &lws.DialOptions{Proxy: "socks5://127.0.0.1:1080"}); err == nil || !strings.Contains(err.Error(), "only http:// proxies") {
			t.Fatalf("socks5 proxy: %v", err)
		}
	})
}
