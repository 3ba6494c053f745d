// Command lws-test-fraggle is libwebsockets' fragmentation test app in Go
// (libwebsockets-test-fraggle), protocol "fraggle-protocol". Options and
// wire behaviour: docs/test-apps.md.
//
// As a server (the default) it sends every connection, over and over, one
// message of 1 to 1024 frames (the first BINARY, the rest CONTINUATION, all
// but the last without FIN) of 1 to 8000 random bytes each, summing every
// byte, then a separate 4-byte BINARY message with the low 32 bits of the
// sum, big-endian. It prints one "sent" line per message.
//
// As a client (-c <address>) it sums the bytes of each piece delivered to
// its receive callback until the final fragment, reads the 4-byte sum and
// prints "EOM received N correctly from M fragments" (M counts receive
// callbacks, so it depends on the rx buffer size, -b) or an "ERROR at EOM"
// line with both sums.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/internal/testapp"
	"github.com/lws-go/lws/logging"
)

const (
	protocolName = "fraggle-protocol"
	maxFrames    = 1024
	maxFrameSize = 8000
)

type options struct {
	port    int
	client  string // -c: the server address or ws:// URL
	rxBuf   int
	count   int
	logMask uint
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("lws-test-fraggle", flag.ContinueOnError)
	fs.IntVar(&o.port, "p", lws.DefaultPort, "TCP `port` to listen on, or of the server with -c")
	fs.IntVar(&o.port, "port", lws.DefaultPort, "same as -p")
	client := fs.Bool("c", false, "run as a client of the address given as argument")
	fs.BoolVar(client, "client", false, "same as -c")
	fs.IntVar(&o.rxBuf, "b", lws.DefaultRxBufferSize, "rx buffer `size`: the most bytes per receive callback")
	fs.IntVar(&o.rxBuf, "rx-buffer-size", lws.DefaultRxBufferSize, "same as -b")
	fs.IntVar(&o.count, "n", 0, "client: close and exit after `count` messages (0: run until the server closes)")
	mask := testapp.LogMaskFlag(fs)
	fs.Usage = testapp.Usage(fs, "[-p port] [-b rxbuf] [-d mask] [-c [-n count] <server address or ws:// URL>]")
	pos, err := testapp.ParseFlags(fs, args)
	if err != nil {
		return o, err
	}
	o.logMask = *mask
	switch {
	case *client && len(pos) != 1:
		fs.Usage()
		return o, fmt.Errorf("-c needs exactly one server address")
	case !*client && len(pos) > 0:
		return o, fmt.Errorf("unexpected argument %q (a client needs -c)", pos[0])
	case *client:
		o.client = pos[0]
	}
	return o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:])
	testapp.Start("lws-test-fraggle", o.logMask, err)
	if o.client != "" {
		os.Exit(runClient(o.client, o.port, o.rxBuf, o.count))
	}
	os.Exit(runServer(o.port, o.rxBuf))
}

// fragSender is a server connection's state: the message being sent.
type fragSender struct {
	rng        *rand.Rand
	framesLeft int // frames of the current message still to send; 0: start one
	frames     int
	length     int
	sum        uint32
	buf        [maxFrameSize + 8]byte // room to fill 8 bytes at a time
}

func serverProtocol(rxBuf int) *lws.Protocol {
	return &lws.Protocol{
		Name:         protocolName,
		RxBufferSize: rxBuf,
		OnEstablished: func(c *lws.Conn) {
			fmt.Fprintf(os.Stderr, "fraggle: connection from %v: sending random fragmented messages\n", c.RemoteAddr())
			c.SetUser(&fragSender{rng: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))})
			c.RequestWriteable()
		},
		OnWriteable: func(c *lws.Conn) {
			s := c.User().(*fragSender)
			if s.framesLeft < 0 { // the payload is out: send the sum
				var b [4]byte
				binary.BigEndian.PutUint32(b[:], s.sum)
				if c.Write(b[:], lws.WriteBinary) == nil {
					fmt.Printf("sent message of %d bytes in %d frames, sum 0x%08x\n", s.length, s.frames, s.sum)
					s.framesLeft = 0
				}
				c.RequestWriteable()
				return
			}
			mode := lws.WriteContinuation
			if s.framesLeft == 0 {
				s.framesLeft = s.rng.IntN(maxFrames) + 1
				s.frames, s.length, s.sum = s.framesLeft, 0, 0
				mode = lws.WriteBinary
			}
			chunk := s.buf[:s.rng.IntN(maxFrameSize)+1]
			for i := 0; i < len(chunk); i += 8 {
				binary.LittleEndian.PutUint64(s.buf[i:], s.rng.Uint64())
			}
			if s.framesLeft > 1 {
				mode |= lws.WriteNoFin
			}
			if err := c.Write(chunk, mode); err != nil {
				logging.Errf("fraggle: write: %v", err)
				return
			}
			for _, b := range chunk {
				s.sum += uint32(b)
			}
			s.length += len(chunk)
			s.framesLeft--
			if s.framesLeft == 0 {
				s.framesLeft = -1
			}
			c.RequestWriteable()
		},
		OnClosed: func(c *lws.Conn, code lws.CloseCode, _ string) {
			fmt.Fprintf(os.Stderr, "fraggle: connection from %v closed (%d)\n", c.RemoteAddr(), code)
		},
	}
}

func runServer(port, rxBuf int) int {
	svc, err := lws.New(lws.Config{
		Addr:      ":" + strconv.Itoa(port),
		Protocols: []*lws.Protocol{serverProtocol(rxBuf)},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "lws-test-fraggle:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "lws-test-fraggle: server listening on port %d\n", svc.Port())
	stopOnSignal(svc, nil)
	if err := svc.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "lws-test-fraggle:", err)
		return 1
	}
	return 0
}

// fragReceiver is the client connection's state.
type fragReceiver struct {
	inPayload bool // inside the payload message
	wantSum   bool // the payload ended: the next message is its sum
	sum       uint32
	length    int
	pieces    int
	messages  int
}

func clientProtocol(rxBuf, count int, done chan<- int) *lws.Protocol {
	return &lws.Protocol{
		Name:         protocolName,
		RxBufferSize: rxBuf,
		OnEstablished: func(c *lws.Conn) {
			fmt.Fprintln(os.Stderr, "fraggle: connected; the server sends random fragmented messages")
			c.SetUser(&fragReceiver{})
		},
		OnReceive: func(c *lws.Conn, data []byte) {
			r := c.User().(*fragReceiver)
			if !r.wantSum {
				if !r.inPayload {
					r.inPayload, r.sum, r.length, r.pieces = true, 0, 0, 0
				}
				for _, b := range data {
					r.sum += uint32(b)
				}
				r.length += len(data)
				r.pieces++
				if c.IsFinalFragment() {
					r.inPayload, r.wantSum = false, true
				}
				return
			}
			r.wantSum = false
			if len(data) != 4 || !c.IsFinalFragment() {
				fmt.Printf("**** ERROR at EOM: length %d, the sum message has %d bytes\n", r.length, len(data))
				c.Close(lws.CloseProtocolError, "bad sum message")
				return
			}
			sent := binary.BigEndian.Uint32(data)
			if sent == r.sum {
				fmt.Printf("EOM received %d correctly from %d fragments\n", r.length, r.pieces)
			} else {
				fmt.Printf("**** ERROR at EOM: length %d, rx sum = 0x%X, server says it sent 0x%X\n", r.length, r.sum, sent)
			}
			r.messages++
			if count > 0 && r.messages == count {
				c.Close(lws.CloseNormal, "done")
			}
		},
		OnClosed: func(c *lws.Conn, code lws.CloseCode, reason string) {
			fmt.Fprintf(os.Stderr, "fraggle: connection closed (%d %s)\n", code, reason)
			finish(done, 0)
		},
		OnConnectionError: func(c *lws.Conn, err error) {
			fmt.Fprintln(os.Stderr, "lws-test-fraggle:", err)
			finish(done, 1)
		},
	}
}

func runClient(address string, port, rxBuf, count int) int {
	done := make(chan int, 1)
	p := clientProtocol(rxBuf, count, done)
	svc, err := lws.New(lws.Config{Protocols: []*lws.Protocol{p}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "lws-test-fraggle:", err)
		return 1
	}
	info := testapp.ClientTarget(address, port, false)
	info.Protocols, info.Protocol = []string{protocolName}, p
	if _, err := svc.Connect(info); err != nil {
		fmt.Fprintln(os.Stderr, "lws-test-fraggle:", err)
		return 1
	}
	stopOnSignal(svc, done)
	go svc.Run()
	code := <-done
	svc.Close()
	return code
}

// stopOnSignal closes the service on SIGINT or SIGTERM (a client reports
// through done instead, so main closes it).
func stopOnSignal(svc *lws.Service, done chan<- int) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		if done != nil {
			finish(done, 0)
			return
		}
		svc.Close()
	}()
}

// finish reports the client's exit code once; it never blocks the loop.
func finish(done chan<- int, code int) {
	select {
	case done <- code:
	default:
	}
}
