// Command lws-test-client is libwebsockets' test client in Go. It opens a
// dumb-increment-protocol connection and prints each number received as
// "rx <len> '<text>'", exiting when that connection closes, and keeps one
// lws-mirror-protocol connection that sends a random circle
// "c #RRGGBB x y r;" on each writeable until its random lifetime of sends
// runs out, then closes and reopens it. Options and wire behaviour:
// docs/test-apps.md.
//
// Both connections are client connections of one service loop
// (lws.Service.Connect), driven by callbacks as in the C original.
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/internal/testapp"
)

// Each mirror connection lives for mirrorBaseLifetime plus up to
// mirrorRandLifetime-1 sends (as the 2013 client); -l adds
// longLivedExtra.
const (
	mirrorBaseLifetime = 10
	mirrorRandLifetime = 1024
	longLivedExtra     = 50000
	reconnectDelay     = time.Second
)

type options struct {
	address   string
	port      int
	ssl       bool
	insecure  bool // -k
	longLived bool
	noMirror  bool
	logMask   uint
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("lws-test-client", flag.ContinueOnError)
	fs.IntVar(&o.port, "port", lws.DefaultPort, "server TCP `port`")
	fs.IntVar(&o.port, "p", lws.DefaultPort, "same as --port")
	fs.BoolVar(&o.ssl, "ssl", false, "use TLS (wss)")
	fs.BoolVar(&o.ssl, "s", false, "same as --ssl")
	insecure := testapp.InsecureFlag(fs)
	fs.BoolVar(&o.longLived, "longlived", false, "add 50000 sends to each mirror lifetime")
	fs.BoolVar(&o.longLived, "l", false, "same as --longlived")
	fs.BoolVar(&o.noMirror, "nomirror", false, "do not open the mirror connection")
	fs.BoolVar(&o.noMirror, "n", false, "same as --nomirror")
	mask := testapp.LogMaskFlag(fs)
	fs.Usage = testapp.Usage(fs, "<server address or ws:// URL> [--port p] [--ssl [-k]] [-d mask] [-l] [-n]")
	pos, err := testapp.ParseFlags(fs, args)
	if err != nil {
		return o, err
	}
	if len(pos) != 1 {
		fs.Usage()
		return o, fmt.Errorf("need exactly one server address")
	}
	o.address, o.logMask, o.insecure = pos[0], *mask, *insecure
	return o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:])
	testapp.Start("lws-test-client", o.logMask, err)
	os.Exit(run(o))
}

// client is the app's state; its fields are used on the service loop.
type client struct {
	o        options
	svc      *lws.Service
	stopping atomic.Bool
	exit     atomic.Int32
	dumb     *lws.Protocol
	mirror   *lws.Protocol
	lifetime int // sends left on the mirror connection
	buf      []byte
}

func run(o options) int {
	svc, err := lws.New(lws.Config{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "lws-test-client:", err)
		return 1
	}
	cl := &client{o: o, svc: svc}
	cl.dumb = cl.dumbProtocol()
	cl.mirror = cl.mirrorProtocol()

	if _, err := svc.Connect(cl.info(cl.dumb)); err != nil {
		fmt.Fprintln(os.Stderr, "lws-test-client:", err)
		svc.Close()
		return 1
	}
	if !o.noMirror {
		cl.openMirror()
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		cl.stop(0)
	}()
	if err := svc.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "lws-test-client:", err)
		return 1
	}
	return int(cl.exit.Load())
}

// stop ends the app with code (from any goroutine, callbacks included).
func (cl *client) stop(code int32) {
	if cl.stopping.CompareAndSwap(false, true) {
		cl.exit.Store(code)
		go cl.svc.Close()
	}
}

func (cl *client) info(p *lws.Protocol) lws.ClientInfo {
	info := testapp.ClientTarget(cl.o.address, cl.o.port, cl.o.ssl)
	info.TLSConfig = testapp.ClientTLS(cl.o.insecure)
	info.Protocols = []string{p.Name}
	info.Protocol = p
	return info
}

func (cl *client) dumbProtocol() *lws.Protocol {
	return &lws.Protocol{
		Name:         "dumb-increment-protocol",
		RxBufferSize: 256,
		OnEstablished: func(c *lws.Conn) {
			fmt.Fprintln(os.Stderr, "dumb: connection established")
		},
		OnReceive: func(c *lws.Conn, data []byte) {
			fmt.Fprintf(os.Stderr, "rx %d '%s'\n", len(data), data)
		},
		OnClosed: func(c *lws.Conn, code lws.CloseCode, reason string) {
			fmt.Fprintf(os.Stderr, "dumb: LWS_CALLBACK_CLOSED (%d %q)\n", int(code), reason)
			cl.stop(0)
		},
		OnConnectionError: func(c *lws.Conn, err error) {
			if !cl.stopping.Load() {
				fmt.Fprintln(os.Stderr, "ERROR: dumb: connection error:", err)
			}
			cl.stop(1)
		},
	}
}

func (cl *client) openMirror() {
	if cl.stopping.Load() {
		return
	}
	if _, err := cl.svc.Connect(cl.info(cl.mirror)); err != nil && !cl.stopping.Load() {
		fmt.Fprintln(os.Stderr, "ERROR: mirror: connect:", err)
		cl.stop(1)
	}
}

func (cl *client) mirrorProtocol() *lws.Protocol {
	return &lws.Protocol{
		Name: "lws-mirror-protocol",
		OnEstablished: func(c *lws.Conn) {
			cl.lifetime = mirrorBaseLifetime + rand.IntN(mirrorRandLifetime)
			if cl.o.longLived {
				cl.lifetime += longLivedExtra
			}
			fmt.Fprintf(os.Stderr, "opened mirror connection with %d lifetime\n", cl.lifetime)
			c.RequestWriteable()
		},
		OnWriteable: func(c *lws.Conn) {
			cl.buf = fmt.Appendf(cl.buf[:0], "c #%06X %d %d %d;",
				rand.IntN(0x1000000), rand.IntN(500), rand.IntN(250), rand.IntN(24))
			if err := c.Write(cl.buf, lws.WriteText); err != nil {
				fmt.Fprintln(os.Stderr, "ERROR: mirror: write:", err)
				c.Close(lws.CloseInternalError, "write failed")
				return
			}
			if cl.lifetime--; cl.lifetime <= 0 {
				fmt.Fprintln(os.Stderr, "mirror: lifetime over, closing")
				c.Close(lws.CloseNormal, "")
				return
			}
			c.RequestWriteable()
		},
		OnClosed: func(c *lws.Conn, code lws.CloseCode, reason string) {
			switch {
			case cl.stopping.Load():
				return
			case cl.lifetime <= 0 && code == lws.CloseNormal:
				fmt.Fprintln(os.Stderr, "mirror: LWS_CALLBACK_CLOSED mirror_lifetime=0")
			default:
				fmt.Fprintf(os.Stderr, "ERROR: mirror: closed with %d %q, %d sends before its end\n", int(code), reason, cl.lifetime)
			}
			cl.openMirror()
		},
		OnConnectionError: func(c *lws.Conn, err error) {
			if cl.stopping.Load() {
				return
			}
			fmt.Fprintln(os.Stderr, "ERROR: mirror: connection error:", err, "(retrying in "+strconv.Itoa(int(reconnectDelay/time.Second))+"s)")
			time.AfterFunc(reconnectDelay, cl.openMirror)
		},
	}
}
