package testapp

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/logging"
)

// TestServerOptions extend lws-test-server for variants built elsewhere
// (the backplane module's lws-test-server-nats).
type TestServerOptions struct {
	// Flags adds flags to the server's set; Synopsis adds to its usage
	// line.
	Flags    func(fs *flag.FlagSet)
	Synopsis string
	// Mirror, when set, makes the mirror protocol once the flags are
	// parsed (after -D has daemonized): it returns the protocol and a
	// start function called with the service before it runs.
	Mirror func() (p *lws.Protocol, start func(*lws.Service) error, err error)
}

// RunTestServer is libwebsockets' test server, lws-test-server: one port
// serving the test page over HTTP and the dumb-increment-protocol and
// lws-mirror-protocol WebSocket protocols. name is the command's name;
// opt may be nil.
func RunTestServer(name string, opt *TestServerOptions) {
	if opt == nil {
		opt = &TestServerOptions{}
	}
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	port := fs.Int("p", lws.DefaultPort, "TCP `port` to listen on")
	fs.IntVar(port, "port", lws.DefaultPort, "same as -p")
	root := fs.String("r", "", "serve files from `dir` instead of the built-in test page")
	fs.StringVar(root, "resource-path", "", "same as -r")
	closeTest := fs.Bool("c", false, "closetest: close dumb-increment connections after 50 messages")
	iface := fs.String("i", "", "listen on this interface `address` only")
	fs.StringVar(iface, "interface", "", "same as -i")
	mask := LogMaskFlag(fs)
	daemon := DaemonFlags(fs, name, ".lwsts-lock")
	tlsFlags := ServerTLSFlags(fs)
	if opt.Flags != nil {
		opt.Flags(fs)
	}
	fs.Usage = Usage(fs, "[-p port] [-r dir] [-c] [-i address] [-s [--cert file --key file]] [-d mask] [-D [-lock-file path] [-log-file path]]"+opt.Synopsis)
	fs.Parse(os.Args[1:])
	ApplyLogMask(*mask)
	if *root != "" {
		*root, _ = filepath.Abs(*root) // a daemon runs in /
	}
	stop := daemon.MaybeDaemonize()

	tlsConfig, err := tlsFlags.Config()
	if err != nil {
		daemon.Fatal(err)
	}
	mirror, start := Mirror(), func(*lws.Service) error { return nil }
	if opt.Mirror != nil {
		if mirror, start, err = opt.Mirror(); err != nil {
			daemon.Fatal(err)
		}
	}
	svc, err := lws.New(lws.Config{
		TLS:  tlsConfig,
		Addr: netJoin(*iface, *port),
		Protocols: []*lws.Protocol{
			{Name: "http-only"},
			DumbIncrement(*closeTest),
			WithDeflate(mirror),
		},
		HTTP: HTTPHandler(*root),
	})
	if err != nil {
		daemon.Fatal(err)
	}
	if err := start(svc); err != nil {
		svc.Close()
		daemon.Fatal(err)
	}
	logging.Noticef("%s: serving %s://localhost:%d/", name, tlsFlags.Scheme(), svc.Port())
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
