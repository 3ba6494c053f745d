// Command lws-test-server is libwebsockets' test server in Go: one port
// serving the test page over HTTP and the dumb-increment-protocol and
// lws-mirror-protocol WebSocket protocols. See ../../../shared/TEST-APPS.md.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"

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
	fs.Usage = testapp.Usage(fs, "[-p port] [-r dir] [-c] [-i address] [-d mask]")
	fs.Parse(os.Args[1:])
	testapp.ApplyLogMask(*mask)

	svc, err := lws.New(lws.Config{
		Addr: netJoin(*iface, *port),
		Protocols: []*lws.Protocol{
			{Name: "http-only"},
			testapp.DumbIncrement(*closeTest),
			testapp.Mirror(),
		},
		HTTP: testapp.HTTPHandler(*root),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "lws-test-server:", err)
		os.Exit(1)
	}
	logging.Noticef("lws-test-server: serving http://localhost:%d/", svc.Port())

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		svc.Close()
	}()
	if err := svc.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "lws-test-server:", err)
		os.Exit(1)
	}
}

func netJoin(host string, port int) string {
	if host == "" {
		return ":" + strconv.Itoa(port)
	}
	return "[" + host + "]:" + strconv.Itoa(port)
}
