// Command lws-test-ping is libwebsockets' test-ping in Go: ping(8) over
// WebSocket. Each of -r connections sends, every -i seconds, a PING whose
// payload starts with a big-endian 8-byte index (from 1), zero-padded to
// -s bytes, and times the PONG that comes back; with -m it sends BINARY
// messages to lws-mirror-protocol instead, which come back as TEXT. It
// prints a line per reply, and on SIGINT stops sending, waits briefly for
// the replies still on their way and prints the statistics. Options and
// wire behaviour: docs/test-apps.md.
//
// The mirror sends every message back as TEXT, and a conforming client
// fails a TEXT message that is not UTF-8 (1007). So with -m the index is
// written 7 bits per byte (the same bytes as plain big-endian below 128),
// and bytes 8-15, when the size allows, carry a 7-bit tag of the
// connection so that each one counts only its own messages.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/internal/testapp"
)

// drainWait bounds the wait for outstanding replies after SIGINT.
const drainWait = 2 * time.Second

type options struct {
	address  string
	port     int
	ssl      bool
	insecure bool // -k
	interval time.Duration
	size     int
	protocol string
	mirror   bool
	clients  int
	flood    bool
	logMask  uint
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("lws-test-ping", flag.ContinueOnError)
	fs.IntVar(&o.port, "port", lws.DefaultPort, "server TCP `port`")
	fs.IntVar(&o.port, "p", lws.DefaultPort, "same as --port")
	fs.BoolVar(&o.ssl, "ssl", false, "use TLS (wss)")
	fs.BoolVar(&o.ssl, "t", false, "same as --ssl")
	fs.BoolVar(&o.insecure, "k", false, "with --ssl: do not verify the server's certificate (self-signed test servers)")
	interval := fs.Float64("interval", 1, "`seconds` between pings of one connection")
	fs.Float64Var(interval, "i", 1, "same as --interval")
	fs.IntVar(&o.size, "size", 64, "payload size in `bytes` (8 to 125 for PINGs)")
	fs.IntVar(&o.size, "s", 64, "same as --size")
	fs.StringVar(&o.protocol, "protocol", "lws-mirror-protocol", "subprotocol `name` to connect with")
	fs.StringVar(&o.protocol, "n", "lws-mirror-protocol", "same as --protocol")
	fs.BoolVar(&o.mirror, "mirror", false, "send BINARY messages through lws-mirror-protocol instead of PINGs")
	fs.BoolVar(&o.mirror, "m", false, "same as --mirror")
	fs.IntVar(&o.clients, "replicate", 1, "number of `connections`")
	fs.IntVar(&o.clients, "r", 1, "same as --replicate")
	fs.BoolVar(&o.flood, "flood", false, "send the next ping as soon as the reply to the last one arrives")
	fs.BoolVar(&o.flood, "f", false, "same as --flood")
	mask := testapp.LogMaskFlag(fs)
	fs.Usage = testapp.Usage(fs, "<server address> [--port p] [--ssl [-k]] [-i interval] [-s size] [-n protocol] [-m] [-r clients] [-f]")
	pos, err := testapp.ParseFlags(fs, args)
	if err != nil {
		return o, err
	}
	if len(pos) != 1 {
		fs.Usage()
		return o, fmt.Errorf("need exactly one server address")
	}
	o.address, o.logMask = pos[0], *mask
	if *interval < 0 || math.IsNaN(*interval) {
		return o, fmt.Errorf("bad interval %v", *interval)
	}
	o.interval = time.Duration(*interval * float64(time.Second))
	if o.mirror {
		o.protocol = "lws-mirror-protocol"
	}
	switch {
	case o.size < 8:
		return o, fmt.Errorf("size %d: the payload needs at least the 8-byte index", o.size)
	case !o.mirror && o.size > lws.MaxControlPayload:
		return o, fmt.Errorf("size %d: a PING carries at most %d bytes (use -m for larger)", o.size, lws.MaxControlPayload)
	case o.clients < 1:
		return o, fmt.Errorf("need at least one connection")
	}
	return o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:])
	testapp.Start("lws-test-ping", o.logMask, err)
	os.Exit(run(o))
}

// pinger is the app's state, used on the service loop only.
type pinger struct {
	o        options
	svc      *lws.Service
	started  time.Time
	headed   bool
	stopping bool
	done     atomic.Bool
	failed   int // connections that could not be opened

	tx, rx, dups       uint64
	rttMin, rttMax     time.Duration
	rttSum             time.Duration
	outstanding        int
	exit               atomic.Int32
	payload            []byte
	established, ended int
}

// session is one connection's state.
type session struct {
	tag    uint64               // marks our messages in mirror mode
	next   uint64               // next index to send
	sentAt map[uint64]time.Time // index -> send time, until answered
	seen   map[uint64]bool      // indexes answered
}

func run(o options) int {
	svc, err := lws.New(lws.Config{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "lws-test-ping:", err)
		return 1
	}
	p := &pinger{o: o, svc: svc, payload: make([]byte, o.size)}
	proto := p.protocol()
	for i := 0; i < o.clients; i++ {
		info := testapp.ClientTarget(o.address, o.port, o.ssl)
		info.TLSConfig = testapp.ClientTLS(o.insecure)
		info.Protocols = []string{o.protocol}
		info.Protocol = proto
		info.User = &session{tag: rand.Uint64N(1 << 56), next: 1, sentAt: map[uint64]time.Time{}, seen: map[uint64]bool{}}
		if _, err := svc.Connect(info); err != nil {
			fmt.Fprintln(os.Stderr, "lws-test-ping:", err)
			svc.Close()
			return 1
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		if svc.Post(p.stop) != nil {
			svc.Close()
		}
	}()
	if err := svc.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "lws-test-ping:", err)
		return 1
	}
	return int(p.exit.Load())
}

func (p *pinger) protocol() *lws.Protocol {
	return &lws.Protocol{
		Name:       p.o.protocol,
		Reassemble: true,
		OnEstablished: func(c *lws.Conn) {
			p.established++
			if !p.headed {
				p.headed = true
				p.started = time.Now()
				fmt.Printf("Websocket PING %s (%s) %d bytes of data.\n", p.o.address, c.RemoteAddr().Addr(), p.o.size)
			}
			p.send(c)
		},
		OnTimer: func(c *lws.Conn) { p.send(c) },
		OnPong: func(c *lws.Conn, payload []byte) {
			if !p.o.mirror {
				p.reply(c, payload)
			}
		},
		OnReceive: func(c *lws.Conn, msg []byte) {
			if p.o.mirror {
				p.reply(c, msg)
			}
		},
		OnClosed: func(c *lws.Conn, code lws.CloseCode, reason string) {
			p.ended++
			if !p.stopping {
				fmt.Fprintf(os.Stderr, "lws-test-ping: connection to %v closed: %d %q\n", c.RemoteAddr(), int(code), reason)
				p.connectionLost()
			}
		},
		OnConnectionError: func(c *lws.Conn, err error) {
			if !p.stopping {
				fmt.Fprintln(os.Stderr, "lws-test-ping: connection error:", err)
				p.failed++
				p.connectionLost()
			}
		},
	}
}

// connectionLost ends the run when no connection is left.
func (p *pinger) connectionLost() {
	if p.failed+p.ended >= p.o.clients {
		p.exit.Store(1)
		if p.headed {
			p.summary()
		}
		p.finish()
	}
}

// send sends the next ping of c and arms its timer.
func (p *pinger) send(c *lws.Conn) {
	s := c.User().(*session)
	if p.stopping {
		return
	}
	if p.o.mirror {
		put7(p.payload, s.next)
		if len(p.payload) >= 16 {
			put7(p.payload[8:], s.tag)
		}
	} else {
		binary.BigEndian.PutUint64(p.payload, s.next)
	}
	mode := lws.WritePing
	if p.o.mirror {
		mode = lws.WriteBinary
	}
	now := time.Now()
	if err := c.Write(p.payload, mode); err != nil {
		fmt.Fprintln(os.Stderr, "lws-test-ping: write:", err)
		return
	}
	s.sentAt[s.next] = now
	s.next++
	p.tx++
	p.outstanding++
	if !p.o.flood {
		c.SetTimer(max(p.o.interval, time.Microsecond))
	}
}

// reply handles a PONG (or mirrored message) carrying payload.
func (p *pinger) reply(c *lws.Conn, payload []byte) {
	s := c.User().(*session)
	if len(payload) != p.o.size {
		return // not one of ours
	}
	idx := binary.BigEndian.Uint64(payload)
	if p.o.mirror {
		if len(payload) >= 16 && get7(payload[8:]) != s.tag {
			return // another connection's message, mirrored to us too
		}
		idx = get7(payload)
	}
	if s.seen[idx] {
		p.dups++
		fmt.Printf("DUP! %d bytes from %s: req=%d\n", len(payload), p.o.address, idx)
		return
	}
	sent, ok := s.sentAt[idx]
	if !ok {
		return // an index we never sent
	}
	delete(s.sentAt, idx)
	s.seen[idx] = true
	rtt := time.Since(sent)
	p.rx++
	p.outstanding--
	p.rttSum += rtt
	if p.rx == 1 || rtt < p.rttMin {
		p.rttMin = rtt
	}
	p.rttMax = max(p.rttMax, rtt)
	if !p.o.flood {
		fmt.Printf("%d bytes from %s: req=%d time=%.3fms\n", len(payload), p.o.address, idx, ms(rtt))
	}
	if p.stopping && p.outstanding == 0 {
		p.summary()
		p.finish()
		return
	}
	if p.o.flood {
		p.send(c)
	}
}

// stop is SIGINT: stop sending, then print the summary once the replies
// in flight have come back (or after drainWait).
func (p *pinger) stop() {
	if p.stopping {
		return
	}
	p.stopping = true
	if p.outstanding == 0 || !p.headed {
		if p.headed {
			p.summary()
		}
		p.finish()
		return
	}
	time.AfterFunc(drainWait, func() {
		_ = p.svc.Post(func() {
			if !p.done.Load() {
				p.summary()
				p.finish()
			}
		})
	})
}

func (p *pinger) finish() {
	if p.done.CompareAndSwap(false, true) {
		go p.svc.Close()
	}
}

func (p *pinger) summary() {
	elapsed := time.Since(p.started)
	loss := 0.0
	if p.tx > 0 {
		loss = float64(p.tx-p.rx) * 100 / float64(p.tx)
	}
	avg := time.Duration(0)
	if p.rx > 0 {
		avg = p.rttSum / time.Duration(p.rx)
	}
	fmt.Printf("\n--- %s websocket ping statistics using %d connections ---\n", p.o.address, p.o.clients)
	dups := ""
	if p.dups > 0 {
		dups = fmt.Sprintf(", +%d duplicates", p.dups)
	}
	fmt.Printf("%d packets transmitted, %d received%s, %.0f%% packet loss, time %dms\n", p.tx, p.rx, dups, loss, elapsed.Milliseconds())
	fmt.Printf("rtt min/avg/max = %.3f/%.3f/%.3f ms\n", ms(p.rttMin), ms(avg), ms(p.rttMax))
	fmt.Printf("payload bandwidth average %.3f KiBytes/sec\n", float64(p.rx)*float64(p.o.size)/elapsed.Seconds()/1024)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// put7 writes v (< 2^56) into b[0:8] big-endian, 7 bits per byte, so every
// byte is ASCII.
func put7(b []byte, v uint64) {
	for i := 7; i >= 0; i-- {
		b[i] = byte(v & 0x7f)
		v >>= 7
	}
}

// get7 reads what put7 wrote.
func get7(b []byte) uint64 {
	var v uint64
	for _, c := range b[:8] {
		v = v<<7 | uint64(c&0x7f)
	}
	return v
}
