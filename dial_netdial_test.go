package lws_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/lws-go/lws"
)

// opaqueConn hides the socket of the net.Conn it wraps, as a tunnel or
// instrumentation wrapper does: the loop must bridge it.
type opaqueConn struct{ net.Conn }

// TestDialNetDialContext: a program's own dialer opens the connection the
// loop then serves: a TCP connection (the loop takes its socket), a
// wrapper without a socket of its own (bridged), a Unix socket of a
// net/http server, and TLS for wss:// run over the dialer's plain
// connection. The dialer gets Dial's ctx and the server's host:port;
// its error is Dial's, wrapped.
func TestDialNetDialContext(t *testing.T) {
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{wholeEcho("echo")}})
	ctx := testCtx(t)
	type key struct{}
	ctx = context.WithValue(ctx, key{}, "dial's ctx")

	var mu sync.Mutex
	var calls []string
	tcp := func(wrap bool) func(context.Context, string, string) (net.Conn, error) {
		return func(dctx context.Context, network, addr string) (net.Conn, error) {
			mu.Lock()
			calls = append(calls, network+" "+addr+" "+dctx.Value(key{}).(string))
			mu.Unlock()
			nc, err := (&net.Dialer{}).DialContext(dctx, network, addr)
			if wrap && err == nil {
				return opaqueConn{nc}, nil
			}
			return nc, err
		}
	}
	roundTrip := func(t *testing.T, cc *lws.ClientConn) {
		t.Helper()
		for _, msg := range [][]byte{[]byte("hello"), bytes.Repeat([]byte("big "), 100000)} {
			if err := cc.WriteMessage(ctx, lws.WriteBinary, msg); err != nil {
				t.Fatal(err)
			}
			if _, got, err := cc.ReadMessage(ctx); err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("echo of %d bytes: %d bytes, %v", len(msg), len(got), err)
			}
		}
		if err := cc.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		if err := cc.Close(lws.CloseNormal, ""); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	for _, wrap := range []bool{false, true} {
		cc, err := lws.Dial(ctx, wsURL(svc, "/"), &lws.DialOptions{Protocols: []string{"echo"}, NetDialContext: tcp(wrap)})
		if err != nil {
			t.Fatalf("Dial (wrapped %v): %v", wrap, err)
		}
		if got, want := cc.RemoteAddr().String(), svc.Addr().String(); got != want {
			t.Errorf("RemoteAddr %s, want %s", got, want)
		}
		roundTrip(t, cc)
	}
	want := "tcp " + strings.TrimPrefix(wsURL(svc, ""), "ws://") + " dial's ctx"
	if len(calls) != 2 || calls[0] != want || calls[1] != want {
		t.Errorf("dialer calls %q, want twice %q", calls, want)
	}

	// A Unix socket, served by net/http and upgraded onto the loop.
	hsvc := startService(t, lws.Config{Protocols: []*lws.Protocol{wholeEcho("echo")}})
	sock := filepath.Join(t.TempDir(), "ws.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: hsvc.Handler()}
	go hs.Serve(ln)
	defer hs.Close()
	cc, err := lws.Dial(ctx, "ws://unix.invalid/", &lws.DialOptions{
		Protocols: []string{"echo"},
		NetDialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	})
	if err != nil {
		t.Fatalf("Dial over a Unix socket: %v", err)
	}
	if got := cc.RemoteAddr().String(); got != sock {
		t.Errorf("RemoteAddr %s, want %s", got, sock)
	}
	roundTrip(t, cc)

	// wss:// over the dialer's connection, verified for the URL's host.
	tsvc, states := startTLSService(t)
	_, roots := testCert()
	cc, err = lws.Dial(ctx, wssURL(tsvc, "localhost"), &lws.DialOptions{
		TLSConfig: &tls.Config{RootCAs: roots},
		NetDialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, tsvc.Addr().String())
		},
	})
	if err != nil {
		t.Fatalf("Dial wss: %v", err)
	}
	if st := <-states; st.ServerName != "localhost" {
		t.Errorf("server saw SNI %q", st.ServerName)
	}
	roundTrip(t, cc)
	_, err = lws.Dial(ctx, wssURL(tsvc, "localhost"), &lws.DialOptions{
		TLSConfig: &tls.Config{RootCAs: roots},
		NetDialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&tls.Dialer{Config: &tls.Config{RootCAs: roots, ServerName: "localhost"}}).DialContext(ctx, network, tsvc.Addr().String())
		},
	})
	if err == nil || !strings.Contains(err.Error(), "*tls.Conn") {
		t.Errorf("a dialer returning TLS for wss://: %v, want it refused", err)
	}

	// The dialer's failure, and ctx ending while it dials.
	refused := errors.New("not today")
	_, err = lws.Dial(ctx, wsURL(svc, "/"), &lws.DialOptions{NetDialContext: func(context.Context, string, string) (net.Conn, error) {
		return nil, refused
	}})
	if !errors.Is(err, refused) {
		t.Errorf("dialer error: Dial returned %v", err)
	}
	short, cancel := context.WithCancel(ctx)
	_, err = lws.Dial(short, wsURL(svc, "/"), &lws.DialOptions{NetDialContext: func(dctx context.Context, _, _ string) (net.Conn, error) {
		cancel()
		<-dctx.Done()
		return nil, dctx.Err()
	}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("ctx cancelled while dialing: Dial returned %v", err)
	}
}
