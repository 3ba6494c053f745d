package backplane_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/backplane"
	"github.com/lws-go/lws/backplane/internal/spanmirror"
	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// jsServer is an embedded NATS server with JetStream that can be stopped
// and started again on the same port with the same storage.
type jsServer struct {
	t    testing.TB
	dir  string
	port int
	ns   *natsserver.Server
}

func startJetStream(t testing.TB) *jsServer {
	t.Helper()
	j := &jsServer{t: t, dir: t.TempDir()}
	j.start()
	j.port = j.ns.Addr().(*net.TCPAddr).Port
	t.Cleanup(j.stop)
	return j
}

func (j *jsServer) start() {
	j.t.Helper()
	port := j.port
	if port == 0 {
		port = natsserver.RANDOM_PORT
	}
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: j.dir, NoLog: true, NoSigs: true})
	if err != nil {
		j.t.Fatalf("nats server: %v", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(20 * time.Second) {
		j.t.Fatalf("nats server not ready")
	}
	j.ns = ns
}

func (j *jsServer) stop() {
	if j.ns != nil {
		j.ns.Shutdown()
		j.ns.WaitForShutdown()
		j.ns = nil
	}
}

func (j *jsServer) url() string { return "nats://127.0.0.1:" + strconv.Itoa(j.port) }

// hasClient reports whether NATS has a client connection named name.
func (j *jsServer) hasClient(name string) bool {
	j.t.Helper()
	cz, err := j.ns.Connz(&natsserver.ConnzOptions{})
	if err != nil {
		j.t.Fatalf("connz: %v", err)
	}
	for _, c := range cz.Conns {
		if c.Name == name {
			return true
		}
	}
	return false
}

// durableServer is one lws server of a group serving the durable mirror;
// it can be stopped and started again on the same port with the same
// instance name.
type durableServer struct {
	t        testing.TB
	natsURL  string
	prefix   string
	instance string
	opts     *backplane.StreamOptions
	port     int

	svc  *lws.Service
	bp   *backplane.Backplane
	st   *backplane.Stream
	nats *cuttableDialer
	done chan error
}

func startDurableServer(t testing.TB, natsURL, prefix, instance string, opts *backplane.StreamOptions) *durableServer {
	t.Helper()
	d := &durableServer{t: t, natsURL: natsURL, prefix: prefix, instance: instance, opts: opts}
	d.start()
	t.Cleanup(d.stop)
	return d
}

func (d *durableServer) start() {
	d.t.Helper()
	dialer := &cuttableDialer{}
	bp, err := backplane.Connect(d.natsURL, &backplane.Options{Prefix: d.prefix, Instance: d.instance, ReconnectWait: 50 * time.Millisecond,
		NATS: []nats.Option{nats.SetCustomDialer(dialer)}})
	if err != nil {
		d.t.Fatalf("Connect: %v", err)
	}
	st, err := bp.Stream("lws-mirror-protocol", d.opts)
	if err != nil {
		d.t.Fatalf("Stream: %v", err)
	}
	svc, err := lws.New(lws.Config{Addr: "127.0.0.1:" + strconv.Itoa(d.port), Protocols: []*lws.Protocol{spanmirror.NewDurable(st)}})
	if err != nil {
		d.t.Fatalf("New: %v", err)
	}
	if d.port == 0 {
		d.port = svc.Port()
	}
	d.svc, d.bp, d.st, d.nats, d.done = svc, bp, st, dialer, make(chan error, 1)
	go func() { d.done <- svc.Run() }()
}

// stop closes the service (its clients are cut off), then the backplane
// (which waits for the buffered messages to be stored).
func (d *durableServer) stop() {
	if d.svc == nil {
		return
	}
	d.svc.Close()
	select {
	case err := <-d.done:
		if err != nil && !errors.Is(err, lws.ErrServiceClosed) { // closed before Run began: fine
			d.t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		d.t.Errorf("Run did not return after Close")
	}
	d.bp.Close()
	d.svc = nil
}

// kill stops the server as a crash would: its clients' connections are
// closed without a close handshake, then its NATS connection is reset
// at once, whatever nats.go had not written yet, with no wait for the
// stream to take the buffered messages and no last acknowledgement of
// its consumer. (Backplane.Close then only releases the goroutines: it
// has no connection to wait on.) It returns once NATS has dropped the
// connection: whatever NATS got from it is queued for the stream by then.
func (d *durableServer) kill(js *jsServer) {
	d.t.Helper()
	d.svc.Close()
	select {
	case err := <-d.done:
		if err != nil && !errors.Is(err, lws.ErrServiceClosed) {
			d.t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		d.t.Errorf("Run did not return after Close")
	}
	d.nats.kill()
	d.bp.Close()
	d.svc = nil
	if !waitFor(10*time.Second, func() bool { return !js.hasClient(natsClientName(d.instance)) }) {
		d.t.Fatalf("NATS still has the killed server %s's connection", d.instance)
	}
}

// natsClientName is the name a Backplane gives its NATS connection.
func natsClientName(instance string) string { return "lws-backplane " + instance }

// cuttableDialer dials a Backplane's NATS connections, which the test
// can reset (NATS lost; nats.go reconnects through it) and, before,
// freeze (whatever NATS sends them from then on is lost); kill resets
// them and refuses any later dial (a crash).
type cuttableDialer struct {
	mu         sync.Mutex
	conns      []*cuttableConn
	dead       bool
	sentFrozen atomic.Int64 // writes on frozen connections
}

type cuttableConn struct {
	*net.TCPConn
	frozen atomic.Bool
	reset  chan struct{}
	d      *cuttableDialer
}

// Write counts what is written while frozen.
func (c *cuttableConn) Write(p []byte) (int, error) {
	if c.frozen.Load() {
		c.d.sentFrozen.Add(1)
	}
	return c.TCPConn.Write(p)
}

// Read drops what is read while frozen and waits for the reset.
func (c *cuttableConn) Read(p []byte) (int, error) {
	n, err := c.TCPConn.Read(p)
	if c.frozen.Load() {
		<-c.reset
		return 0, net.ErrClosed
	}
	return n, err
}

func (d *cuttableDialer) Dial(network, address string) (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.dead {
		return nil, errors.New("server killed")
	}
	conn, err := net.DialTimeout(network, address, 2*time.Second)
	if err != nil {
		return nil, err
	}
	c := &cuttableConn{TCPConn: conn.(*net.TCPConn), reset: make(chan struct{}), d: d}
	d.conns = append(d.conns, c)
	return c, nil
}

func (d *cuttableDialer) freeze() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.conns {
		c.frozen.Store(true)
	}
}

// resetConns ends the connections at once (a reset): nothing more is
// written or read.
func (d *cuttableDialer) resetConns() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.conns {
		_ = c.SetLinger(0)
		c.Close()
		close(c.reset)
	}
	d.conns = nil
}

func (d *cuttableDialer) kill() {
	d.mu.Lock()
	d.dead = true
	d.mu.Unlock()
	d.resetConns()
}

func (d *durableServer) url(mirror string) string {
	return fmt.Sprintf("ws://127.0.0.1:%d/?mirror=%s", d.port, mirror)
}

// ready waits until the server reads the stream.
func (d *durableServer) ready(t testing.TB) {
	t.Helper()
	if !waitFor(20*time.Second, func() bool { return d.st.Position().Epoch != "" }) {
		t.Fatalf("server %s never read the stream", d.instance)
	}
}

// streamReader reads a framed client's events in the background and
// checks, per sender of "<sender> <seq>" messages, that numbers only grow
// by one: each message once, in order, none missing. Only a status may
// excuse a break: after a gap a sender may jump ahead (the jump is counted
// as lost); after a refused recovery (and at the start) a sender may
// start anywhere, since the client starts afresh.
type streamReader struct {
	mu   sync.Mutex
	last map[int]int      // sender -> last seq
	mode map[int]readMode // sender -> what its next message may be
	lost int
	errs []string
	// duplicates (a number again or out of order) and missing (a hole
	// no status excused): each also an error.
	duplicates, missing int
	refusals            map[string]int // NotRecovered reasons (up to a colon)
	count               int
	statuses            map[backplane.EventKind]int
	trace               []string // with STREAM_TRACE set: every event
	fresh               int      // fresh starts (At, NotRecovered) so far
	gapped              bool     // a gap since the last fresh start
	firsts              []first  // each sender's first message after each fresh start
}

// first is a sender's first message after fresh start number fresh, and
// whether a gap came between.
type first struct {
	fresh, sender, seq int
	gapped             bool
}

type readMode uint8

const (
	anyNext  readMode = iota // a fresh start: any number
	nextOnly                 // exactly the one after the last
	aheadOK                  // after a gap: any number after the last
)

func newStreamReader() *streamReader {
	return &streamReader{last: map[int]int{}, mode: map[int]readMode{}, statuses: map[backplane.EventKind]int{}, refusals: map[string]int{}}
}

func (r *streamReader) add(ev backplane.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if os.Getenv("STREAM_TRACE") != "" {
		r.trace = append(r.trace, fmt.Sprintf("%v %q %s %s", ev.Kind, ev.Data, ev.Position, ev.Reason))
	}
	if ev.Kind != backplane.Message {
		r.statuses[ev.Kind]++
		if ev.Kind == backplane.NotRecovered {
			why, _, _ := strings.Cut(ev.Reason, ":")
			r.refusals[why]++
		}
		switch ev.Kind {
		case backplane.NotRecovered, backplane.At:
			r.mode = map[int]readMode{}
			r.fresh++
			r.gapped = false
		case backplane.Gap:
			r.gapped = true
			for s, m := range r.mode {
				if m == nextOnly {
					r.mode[s] = aheadOK
				}
			}
		}
		return
	}
	a, b, ok := strings.Cut(string(ev.Data), " ")
	s, err1 := strconv.Atoi(a)
	seq, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil {
		r.errs = append(r.errs, fmt.Sprintf("bad message %q", ev.Data))
		return
	}
	last := r.last[s]
	switch r.mode[s] {
	case nextOnly:
		if seq <= last {
			r.duplicates++
			r.errs = append(r.errs, fmt.Sprintf("sender %d: %d after %d (duplicate or out of order) at %s", s, seq, last, ev.Position))
			return
		}
		if seq > last+1 {
			r.missing += seq - last - 1
			r.errs = append(r.errs, fmt.Sprintf("sender %d: %d after %d: %d missing without a status saying so, at %s", s, seq, last, seq-last-1, ev.Position))
		}
	case anyNext:
		r.firsts = append(r.firsts, first{r.fresh, s, seq, r.gapped})
	case aheadOK:
		if seq <= last {
			r.duplicates++
			r.errs = append(r.errs, fmt.Sprintf("sender %d: %d after %d (duplicate or out of order) after a gap, at %s", s, seq, last, ev.Position))
			return
		}
		r.lost += seq - last - 1
	}
	r.mode[s] = nextOnly
	r.last[s] = seq
	r.count++
}

// statusCount is how many statuses r got.
func (r *streamReader) statusCount() (n, fresh int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.statuses {
		n += c
	}
	return n, r.fresh
}

// checkFirsts checks that no sender's first message after a fresh start
// skipped a message sent after that start, unless a gap said messages
// were lost: floors[f][s] is how many messages s had sent when fresh
// start f was granted.
func (r *streamReader) checkFirsts(t testing.TB, name string, floors map[int]map[int]int) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range r.firsts {
		if fl, ok := floors[f.fresh]; ok && f.seq > fl[f.sender] && !f.gapped {
			t.Errorf("%s: after fresh start %d, the first message of sender %d is %d: %d..%d, sent after that start, are missing", name, f.fresh, f.sender, f.seq, fl[f.sender], f.seq-1)
		}
	}
}

func (r *streamReader) reached(seq int, senders []int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range senders {
		if last, ok := r.last[s]; !ok || last < seq || r.mode[s] == anyNext {
			return false
		}
	}
	return true
}

func (r *streamReader) check(t testing.TB, name string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.errs {
		t.Errorf("%s: %s", name, e)
	}
	if len(r.errs) > 0 {
		for _, e := range r.trace {
			t.Logf("%s: %s", name, e)
		}
	}
}

// readAll reads c until it ends, into r.
func (r *streamReader) readAll(c *backplane.Client) {
	for {
		ev, err := c.Read(context.Background())
		if err != nil {
			return
		}
		r.add(ev)
	}
}
