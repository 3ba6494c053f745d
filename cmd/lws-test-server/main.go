// Command lws-test-server is libwebsockets' test server in Go: one port
// serving the test page over HTTP and the dumb-increment-protocol and
// lws-mirror-protocol WebSocket protocols. See ../../../shared/TEST-APPS.md.
//
// Open http://localhost:7681/ in a browser: the page shows the counter and
// a canvas whose strokes every other open copy of the page draws too. The
// page is tested in headless Chromium by the browsertest module.
package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/internal/testapp"
	"github.com/lws-go/lws/logging"
)

func main() {
	fs := flag.NewFlagSet("lws-test-server", flag.ExitOnError)
	port := fs.Int("p", lws.DefaultPort, "TCP `port` to listen on")
	fs.IntVar(port, "port", lws.DefaultPort, "same as -p")
	root := fs.String("r", "", "serve files from `dir` instead of the built-in test page")
	fs.StringVar(root, "resource-path", "", "same as -r")
	closeTest := fs.Bool("c", false, "closetest: close dumb-increment connections after 50 messages")
	iface := fs.String("i", "", "listen on this interface `address` only")
	fs.StringVar(iface, "interface", "", "same as -i")
	mask := testapp.LogMaskFlag(fs)
	daemon := testapp.DaemonFlags(fs, "lws-test-server", ".lwsts-lock")
	tlsFlags := testapp.ServerTLSFlags(fs)
	fs.Usage = testapp.Usage(fs, "[-p port] [-r dir] [-c] [-i address] [-s [--cert file --key file]] [-d mask] [-D [-lock-file path] [-log-file path]]")
	fs.Parse(os.Args[1:])
	testapp.ApplyLogMask(*mask)
	if *root != "" {
		*root, _ = filepath.Abs(*root) // a daemon runs in /
	}
	stop := daemon.MaybeDaemonize()

	tlsConfig, err := tlsFlags.Config()
	if err != nil {
		daemon.Fatal(err)
	}
	svc, err := lws.New(lws.Config{
		TLS:  tlsConfig,
		Addr: netJoin(*iface, *port),
		Protocols: []*lws.Protocol{
			{Name: "http-only"},
			testapp.DumbIncrement(*closeTest),
			testapp.WithDeflate(testapp.Mirror()),
		},
		HTTP: testapp.HTTPHandler(*root),
	})
	if err != nil {
		daemon.Fatal(err)
	}
	logging.Noticef("lws-test-server: serving %s://localhost:%d/", tlsFlags.Scheme(), svc.Port())
	daemon.Ready()

	go func() {
		<-stop.Done() // SIGINT or SIGTERM: close every connection with 1001, then stop
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		svc.Shutdown(ctx)
	}()
	if err := svc.Run(); err != nil {
		daemon.Fatal(err)
	}
	daemon.Close()
}

func netJoin(host string, port int) string {
	if host == "" {
		return ":" + strconv.Itoa(port)
	}
	return "[" + host + "]:" + strconv.Itoa(port)
}
