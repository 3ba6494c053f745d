// Command lws-test-echo is libwebsockets' test-echo in Go: a server (the
// default) that echoes every message back with its type, on the protocol
// "default", or with -c a client that sends "hello from lws-test-echo
// client pid P index I\n" every -r milliseconds and prints what comes
// back. Both negotiate permessage-deflate by default, with context
// takeover allowed both ways (--no-context-takeover keeps none,
// --no-deflate turns it off), and accept every parameter RFC 7692 allows.
// Options and wire behaviour: docs/test-apps.md.
//
// Unlike the 2013 app, which capped echoes at 1400 bytes, the server
// echoes messages of any size up to --max-size, and keeps memory bounded:
// when the peer does not read its echoes, reading from it pauses until
// they drain.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/internal/testapp"
	"github.com/lws-go/lws/logging"
)

const protocolName = "default"

type options struct {
	port     int
	portSet  bool // -p given: the client's default port is 80 otherwise
	iface    string
	ssl      bool
	insecure bool   // client: -k
	client   string // -c: client mode, server address or ws:// URL
	rate     time.Duration
	count    int // client: stop after this many messages (0: never)
	maxSize  int64
	logMask  uint
	daemon   *testapp.Daemon // server: -D and its lock and log files

	noDeflate  bool // do not negotiate permessage-deflate
	noTakeover bool // permessage-deflate without context takeover either way
}

// parseFlags is all the flag handling, kept in one place so that options
// (such as -D, daemonize) are added here only.
func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("lws-test-echo", flag.ContinueOnError)
	fs.IntVar(&o.port, "port", lws.DefaultPort, "TCP `port` (server: to listen on; client: of the server, 80 when not given)")
	fs.IntVar(&o.port, "p", lws.DefaultPort, "same as --port")
	fs.StringVar(&o.iface, "interface", "", "server: listen on this `address` only")
	fs.StringVar(&o.iface, "i", "", "same as --interface")
	fs.BoolVar(&o.ssl, "ssl", false, "use TLS")
	fs.BoolVar(&o.ssl, "s", false, "same as --ssl")
	fs.BoolVar(&o.insecure, "k", false, "client, with --ssl: do not verify the server's certificate (self-signed test servers)")
	fs.StringVar(&o.client, "client", "", "client mode: connect to this server `address` or ws:// URL")
	fs.StringVar(&o.client, "c", "", "same as --client")
	rateMs := fs.Int("ratems", 250, "client: send a message every `ms` milliseconds")
	fs.IntVar(rateMs, "r", 250, "same as --ratems")
	fs.IntVar(&o.count, "n", 0, "client: exit after `count` messages came back (0: run until interrupted)")
	fs.Int64Var(&o.maxSize, "max-size", 16<<20, "server: largest message echoed, in `bytes` (1009 beyond)")
	fs.BoolVar(&o.noDeflate, "no-deflate", false, "do not negotiate permessage-deflate (on by default, with context takeover)")
	fs.BoolVar(&o.noTakeover, "no-context-takeover", false, "permessage-deflate without context takeover in either direction")
	mask := testapp.LogMaskFlag(fs)
	o.daemon = testapp.DaemonFlags(fs, "lws-test-echo", ".lwstecho-lock")
	fs.Usage = testapp.Usage(fs, "[-p port] [-i address] [-s] [-c address [-r ms] [-n count]] [--max-size bytes] [--no-deflate | --no-context-takeover] [-d mask] [-D [-lock-file path] [-log-file path]]")
	pos, err := testapp.ParseFlags(fs, args)
	if err != nil {
		return o, err
	}
	if len(pos) > 0 {
		return o, fmt.Errorf("unexpected argument %q", pos[0])
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "p" || f.Name == "port" {
			o.portSet = true
		}
	})
	if *rateMs <= 0 {
		return o, fmt.Errorf("-r must be positive")
	}
	o.rate = time.Duration(*rateMs) * time.Millisecond
	o.logMask = *mask
	return o, nil
}

// compression is the app's permessage-deflate configuration, both modes:
// on by default with context takeover allowed both ways, so that a peer
// may compress with any parameters RFC 7692 allows.
func (o options) compression() *lws.Compression {
	switch {
	case o.noDeflate:
		return nil
	case o.noTakeover:
		return &lws.Compression{PeerNoContextTakeover: true}
	}
	return &lws.Compression{ContextTakeover: true}
}

func main() {
	o, err := parseFlags(os.Args[1:])
	testapp.Start("lws-test-echo", o.logMask, err)
	if o.client != "" {
		os.Exit(runClient(o))
	}
	os.Exit(runServer(o))
}

// runUntilSignal runs svc until SIGINT/SIGTERM (calling onSignal first)
// or until it is closed.
func runUntilSignal(svc *lws.Service, onSignal func()) error {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	go func() {
		if _, ok := <-sig; ok {
			onSignal()
			svc.Close()
		}
	}()
	return svc.Run()
}

// echoState is a server connection's echo waiting for the socket.
type echoState struct {
	msg  []byte
	mode lws.WriteMode
}

func echoProtocol(maxSize int64, comp *lws.Compression) *lws.Protocol {
	return &lws.Protocol{
		Name:           protocolName,
		Reassemble:     true,
		MaxMessageSize: maxSize,
		Compression:    comp,
		OnReceive: func(c *lws.Conn, msg []byte) {
			mode := lws.WriteText
			if c.IsBinary() {
				mode = lws.WriteBinary
			}
			switch err := c.Write(msg, mode); err {
			case nil:
			case lws.ErrWriteBufferFull:
				// The peer is not reading its echoes: keep this one and
				// stop reading until it is sent.
				c.SetUser(&echoState{msg: append([]byte(nil), msg...), mode: mode})
				c.PauseRx()
				c.RequestWriteable()
			default:
				logging.Infof("echo: write: %v", err)
			}
		},
		OnWriteable: func(c *lws.Conn) {
			st, _ := c.User().(*echoState)
			if st == nil {
				return
			}
			if err := c.Write(st.msg, st.mode); err == lws.ErrWriteBufferFull {
				c.RequestWriteable()
				return
			}
			c.SetUser(nil)
			c.ResumeRx()
		},
	}
}

func runServer(o options) int {
	// -s: TLS with a self-signed certificate made at start.
	tlsConfig, err := (&testapp.ServerTLS{On: o.ssl}).Config()
	if err != nil {
		fmt.Fprintln(os.Stderr, "lws-test-echo:", err)
		return 1
	}
	host := o.iface
	if host != "" {
		host = "[" + host + "]"
	}
	o.daemon.MaybeDaemonize() // with -D the starting process exits here; runUntilSignal handles the signals
	svc, err := lws.New(lws.Config{
		Addr:      host + ":" + strconv.Itoa(o.port),
		TLS:       tlsConfig,
		Protocols: []*lws.Protocol{echoProtocol(o.maxSize, o.compression())},
		Limits:    lws.Limits{MaxMessageSize: o.maxSize},
	})
	if err != nil {
		o.daemon.Fatal(err)
	}
	scheme := "ws"
	if o.ssl {
		scheme = "wss"
	}
	logging.Noticef("lws-test-echo: serving %s://localhost:%d/ (protocol %q)", scheme, svc.Port(), protocolName)
	o.daemon.Ready()
	err = runUntilSignal(svc, func() {})
	o.daemon.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "lws-test-echo:", err)
		return 1
	}
	return 0
}

func runClient(o options) int {
	svc, err := lws.New(lws.Config{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "lws-test-echo:", err)
		return 1
	}
	port := o.port
	if !o.portSet {
		port = 80
	}
	var (
		exit     atomic.Int32
		stopped  atomic.Bool // finished or interrupted: the exit code is set
		index    int
		received int
	)
	finish := func(code int32) {
		if stopped.CompareAndSwap(false, true) {
			exit.Store(code)
			go svc.Close()
		}
	}
	proto := &lws.Protocol{
		Name:        protocolName,
		Reassemble:  true,
		Compression: o.compression(),
		OnEstablished: func(c *lws.Conn) {
			fmt.Printf("Client connected to %v\n", c.RemoteAddr())
			if params, ok := c.Deflate(); ok {
				fmt.Printf("Client negotiated %s\n", params)
			}
			c.SetTimer(time.Millisecond)
		},
		OnTimer: func(c *lws.Conn) {
			msg := fmt.Sprintf("hello from lws-test-echo client pid %d index %d\n", os.Getpid(), index)
			index++
			fmt.Printf("Client TX: %s", msg)
			if err := c.Write([]byte(msg), lws.WriteText); err != nil {
				fmt.Fprintln(os.Stderr, "lws-test-echo: write:", err)
			}
			if o.count == 0 || index < o.count {
				c.SetTimer(o.rate)
			}
		},
		OnReceive: func(c *lws.Conn, msg []byte) {
			fmt.Printf("Client RX: %s", msg)
			if len(msg) == 0 || msg[len(msg)-1] != '\n' {
				fmt.Println()
			}
			if received++; o.count > 0 && received >= o.count {
				c.Close(lws.CloseNormal, "done")
			}
		},
		OnClosed: func(c *lws.Conn, code lws.CloseCode, reason string) {
			fmt.Printf("Client closed: %d %q\n", int(code), reason)
			if o.count > 0 && received >= o.count && code == lws.CloseNormal {
				finish(0)
			} else {
				finish(1)
			}
		},
		OnConnectionError: func(c *lws.Conn, err error) {
			fmt.Fprintln(os.Stderr, "lws-test-echo: connection error:", err)
			finish(1)
		},
	}
	info := testapp.ClientTarget(o.client, port, o.ssl)
	info.TLSConfig = testapp.ClientTLS(o.insecure)
	info.Protocol = proto // no subprotocol offered, as the C client
	if _, err := svc.Connect(info); err != nil {
		fmt.Fprintln(os.Stderr, "lws-test-echo:", err)
		svc.Close()
		return 1
	}
	if err := runUntilSignal(svc, func() { stopped.Store(true) }); err != nil {
		fmt.Fprintln(os.Stderr, "lws-test-echo:", err)
		return 1
	}
	return int(exit.Load())
}
