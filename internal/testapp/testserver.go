package testapp

import (
	"context"
	"flag"
	"fmt"
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

// ServerFlags are the options of lws-test-server, which
// lws-test-server-extpoll shares: -p/--port, -r/--resource-path, -c
// (closetest), -i/--interface, the TLS flags, -d and the daemon flags.
type ServerFlags struct {
	fs        *flag.FlagSet
	Port      int
	Root      string
	CloseTest bool
	Iface     string
	LogMask   *uint
	Daemon    *Daemon
	TLS       *ServerTLS
}

// serverSynopsis is the usage line of ServerFlags.
const serverSynopsis = "[-p port] [-r dir] [-c] [-i address] [-s [--cert file --key file]] [-d mask] [-D [-lock-file path] [-log-file path]]"

// NewServerFlags registers the test server's flags on a new flag set for
// the app name; lockName is the default lock file name of -D. add, when
// not nil, registers more flags, and synopsis describes them in the
// usage line.
func NewServerFlags(name, lockName string, add func(fs *flag.FlagSet), synopsis string) *ServerFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	f := &ServerFlags{fs: fs}
	fs.IntVar(&f.Port, "p", lws.DefaultPort, "TCP `port` to listen on")
	fs.IntVar(&f.Port, "port", lws.DefaultPort, "same as -p")
	fs.StringVar(&f.Root, "r", "", "serve files from `dir` instead of the built-in test page")
	fs.StringVar(&f.Root, "resource-path", "", "same as -r")
	fs.BoolVar(&f.CloseTest, "c", false, "closetest: close dumb-increment connections after 50 messages")
	fs.StringVar(&f.Iface, "i", "", "listen on this interface `address` only")
	fs.StringVar(&f.Iface, "interface", "", "same as -i")
	f.LogMask = LogMaskFlag(fs)
	f.Daemon = DaemonFlags(fs, name, lockName)
	f.TLS = ServerTLSFlags(fs)
	if add != nil {
		add(fs)
	}
	fs.Usage = Usage(fs, serverSynopsis+synopsis)
	return f
}

// Parse parses the command line (exiting on an error, or with 0 after
// -h), applies -d, and makes -r absolute (a daemon runs in /). The test
// servers take no positional argument.
func (f *ServerFlags) Parse(args []string) {
	pos, err := ParseFlags(f.fs, args)
	if err == nil && len(pos) > 0 {
		err = fmt.Errorf("unexpected argument %q", pos[0])
	}
	Start(f.fs.Name(), *f.LogMask, err)
	if f.Root != "" {
		f.Root, _ = filepath.Abs(f.Root)
	}
}

// Addr is the address to listen on.
func (f *ServerFlags) Addr() string {
	if f.Iface == "" {
		return ":" + strconv.Itoa(f.Port)
	}
	return "[" + f.Iface + "]:" + strconv.Itoa(f.Port)
}

// RunTestServer is libwebsockets' test server, lws-test-server: one port
// serving the test page over HTTP and the dumb-increment-protocol and
// lws-mirror-protocol WebSocket protocols. name is the command's name;
// opt may be nil.
func RunTestServer(name string, opt *TestServerOptions) {
	if opt == nil {
		opt = &TestServerOptions{}
	}
	f := NewServerFlags(name, ".lwsts-lock", opt.Flags, opt.Synopsis)
	f.Parse(os.Args[1:])
	daemon, tlsFlags := f.Daemon, f.TLS
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
		Addr: f.Addr(),
		Protocols: []*lws.Protocol{
			{Name: "http-only"},
			DumbIncrement(f.CloseTest),
			WithDeflate(mirror),
		},
		HTTP: HTTPHandler(f.Root),
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
