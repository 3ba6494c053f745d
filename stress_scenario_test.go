//go:build linux

package lws_test

// One stress scenario: a server Service and a client Service configured
// alike (plain or TLS, permessage-deflate off, on, or on with context
// takeover, one or two loops, epoll, poll(2) or an external epoll loop),
// connections to the server from raw peers written here, from
// Service.Connect clients and from Dial clients, and on every connection
// messages both ways from every way of sending, while readers pause,
// stall and resume, clients close at random, and the sockets meet the
// faults of internal/sockio. Everything random is drawn from the
// scenario's seed.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/evloop"
	"github.com/lws-go/lws/internal/sockio"
	"github.com/lws-go/lws/tlsconn"
	"golang.org/x/sys/unix"
)

const (
	sideServer = 0
	sideClient = 1
)

func sideName(side int) string {
	if side == sideServer {
		return "server"
	}
	return "client"
}

// The pollers a scenario's services run on.
const (
	pollEpoll = iota
	pollPoll
	pollExternal
	pollPortable // net.Conns served by goroutines that notify the loop
)

var pollerNames = [...]string{"epoll", "poll", "external", "portable"}

// pollerBackends are the Config.Backend of each poller.
var pollerBackends = [...]lws.Backend{lws.BackendEpoll, lws.BackendPoll, lws.BackendDefault, lws.BackendPortable}

// The permessage-deflate settings of a scenario.
const (
	deflateOff = iota
	deflateOn
	deflateTakeover
)

var deflateNames = [...]string{"off", "on", "takeover"}

// stressCell is the place of a scenario in the configuration matrix.
type stressCell struct {
	tls     bool
	deflate int
	loops   int
	poller  int
}

func (c stressCell) String() string {
	return fmt.Sprintf("tls=%v deflate=%s loops=%d poller=%s", c.tls, deflateNames[c.deflate], c.loops, pollerNames[c.poller])
}

// stressParams is everything a scenario draws from its seed.
type stressParams struct {
	cell stressCell

	raw, connect, dial int // connections from each kind of client

	writerMsgs   int // messages of each connection's writer
	sendTasks    int // Conn.Send goroutines per lws connection end
	postTasks    int // Conn.Post goroutines per lws connection end
	dialTasks    int // further WriteMessage goroutines per Dial client
	taskMsgs     int // messages of each of those goroutines
	broadcasters int // Broadcast goroutines per service
	bcastMsgs    int // messages of each
	maxSize      int // the largest message

	reassemble      [2]bool // Protocol.Reassemble of the server and the client protocol
	rxBuffer        [2]int  // Protocol.RxBufferSize
	echo            float64 // chance that an lws end sends back what it receives
	pause           float64 // chance that an lws end's OnReceive pauses reading
	chaos           bool    // goroutines pause and resume lws ends through Conn.Post
	slowReaders     float64 // chance that a Dial or raw reader sleeps after a message
	writeBuffer     int     // Limits.WriteBufferSize
	sendQueue       int     // Limits.SendQueueSize
	pingInterval    time.Duration
	sharedDial      float64 // chance that a Dial client runs on Dial's shared service
	randomClose     float64 // chance that a connection is closed at a random point
	reset           float64 // chance that a connection is reset part way
	compression     *lws.Compression
	faults          sockio.Faults
	activityPadding time.Duration // how long random closes may wait
}

// drawParams draws a scenario. A cell index >= 0 picks the cell from the
// matrix instead, and a light scenario (the fixed slice of make test
// covers the matrix that way, in well under a minute).
func drawParams(seed int64, cellIndex int) stressParams {
	r := rand.New(rand.NewPCG(uint64(seed), 0x57e55))
	var p stressParams
	light := cellIndex >= 0
	if light {
		p.cell = stressCells[cellIndex%len(stressCells)]
	} else {
		p.cell = stressCells[r.IntN(len(stressCells))]
	}
	p.raw, p.connect, p.dial = 1+r.IntN(3), 1+r.IntN(3), 1+r.IntN(3)
	p.writerMsgs = 20 + r.IntN(60)
	p.sendTasks, p.postTasks, p.dialTasks = r.IntN(3), r.IntN(2), r.IntN(3)
	p.taskMsgs = 5 + r.IntN(25)
	p.broadcasters, p.bcastMsgs = r.IntN(3), 5+r.IntN(20)
	p.maxSize = [...]int{64 << 10, 256 << 10, stressMaxMessage}[r.IntN(3)]
	if light {
		p.raw, p.connect, p.dial = 1+r.IntN(2), 1+r.IntN(2), 1+r.IntN(2)
		p.writerMsgs, p.taskMsgs, p.bcastMsgs = 10+r.IntN(30), 3+r.IntN(12), 3+r.IntN(10)
		p.maxSize = [...]int{16 << 10, 64 << 10, 64 << 10, 256 << 10, stressMaxMessage}[r.IntN(5)]
		if p.cell.deflate != deflateOff { // compressing under the race detector is slow
			p.maxSize = min(p.maxSize, 64<<10)
			p.writerMsgs, p.taskMsgs = p.writerMsgs/2, max(p.taskMsgs/2, 2)
		}
	}
	for i := range 2 {
		p.reassemble[i] = r.IntN(2) == 0
		p.rxBuffer[i] = [...]int{0, 97, 1000, 4096, 70000}[r.IntN(5)]
		if p.rxBuffer[i] == 97 && p.maxSize > 64<<10 {
			p.rxBuffer[i] = 1000 // a callback per 97 bytes of megabytes is only slow
		}
	}
	p.echo = [...]float64{0, 0.3, 1}[r.IntN(3)]
	p.pause = [...]float64{0, 0.05, 0.3}[r.IntN(3)]
	p.chaos = r.IntN(2) == 0
	p.slowReaders = [...]float64{0, 0.02, 0.2}[r.IntN(3)]
	p.writeBuffer = [...]int{64 << 10, 300 << 10, 4 << 20}[r.IntN(3)]
	p.sendQueue = [...]int{128 << 10, 1 << 20, 4 << 20}[r.IntN(3)]
	p.pingInterval = [...]time.Duration{0, 50 * time.Millisecond}[r.IntN(2)]
	p.sharedDial = 0.3
	if p.cell.poller == pollPortable {
		// The shared Dial service has the default limits (a 5 s close
		// timeout) and the default backend; behind a close, a portable
		// server that reads slowly has up to a MiB read ahead to get
		// through first, which takes longer under -race. The portable
		// cells' Dial clients run on the scenario's portable client
		// service, whose close timeout is the scenario's.
		p.sharedDial = 0
	}
	p.randomClose = [...]float64{0, 0.15, 0.4}[r.IntN(3)]
	p.reset = [...]float64{0, 0.1, 0.3}[r.IntN(3)]
	switch p.cell.deflate {
	case deflateOn:
		p.compression = &lws.Compression{Threshold: r.IntN(2) * 100, PeerNoContextTakeover: r.IntN(2) == 0}
	case deflateTakeover:
		p.compression = &lws.Compression{ContextTakeover: true, Level: [...]int{1, 1, 2, 6, 9}[r.IntN(5)]}
		if p.maxSize >= 256<<10 {
			// Under the race detector a level above 1 compresses a MiB in
			// most of a second (a quarter MiB at level 9 in a good part of
			// one), and a loop busy with a few of them for
			// longer than the shared Dial service's CloseTimeout (5s)
			// fails a close handshake that is only slow.
			p.compression.Level = 1
		}
	}
	p.faults = sockio.Faults{
		Seed:       seed,
		ShortRead:  [...]float64{0, 0.1, 0.5}[r.IntN(3)],
		ShortWrite: [...]float64{0, 0.1, 0.5}[r.IntN(3)],
		EAGAIN:     [...]float64{0, 0.02, 0.1}[r.IntN(3)],
		EINTR:      [...]float64{0, 0.02, 0.1}[r.IntN(3)],
	}
	p.activityPadding = time.Duration(100+r.IntN(400)) * time.Millisecond
	return p
}

// stressCells is the configuration matrix; an external loop drives one
// service loop only.
var stressCells = func() []stressCell {
	var cells []stressCell
	for _, poller := range []int{pollEpoll, pollPoll, pollExternal, pollPortable} {
		for _, loops := range []int{1, 2} {
			if poller == pollExternal && loops == 2 {
				continue
			}
			for _, tls := range []bool{false, true} {
				for _, deflate := range []int{deflateOff, deflateOn, deflateTakeover} {
					cells = append(cells, stressCell{tls: tls, deflate: deflate, loops: loops, poller: poller})
				}
			}
		}
	}
	return cells
}()

// scenario is one run of the stress test.
type scenario struct {
	t    *testing.T
	seed int64
	p    stressParams
	r    *rand.Rand // setup only, on the test goroutine

	senders      map[uint32]*sender // every sender, by id; fixed before any connection opens
	broadcasters [2][]*sender       // by service side
	pairs        []*pair
	svc          [2]*lws.Service
	proto        [2]*lws.Protocol
	tlsClient    *tls.Config // for wss clients; nil for plain

	ctx     context.Context
	cancel  context.CancelFunc
	failMu  sync.Mutex
	failErr error

	began  time.Time
	phases []string // how long each phase took

	tasks     sync.WaitGroup // goroutines of the activity
	chaosStop chan struct{}  // closed when the chaos goroutines must stop
	settled   chan struct{}  // closed when the activity is over: random closes no longer start
	stopLoops []func()       // stop external loops (each closes its service)
	runDone   []chan error   // Run results of the services run by Run
}

// pair is one connection, seen from both ends.
type pair struct {
	id             int
	server, client *end

	mu        sync.Mutex
	truncated string // why its streams may stop early; "" while they must be whole
	abrupt    bool   // ended without a close handshake: 1006 is expected
	closing   bool   // a close has started, at random or at the end

	resetSide  int // the end whose socket is reset part way (-1: none)
	resetAfter int64
	closeAfter time.Duration // when to close at random (0: never)
	closeHow   int           // 0: the client closes, 1: the server closes, 2: the raw client drops the TCP connection
}

// truncate records that the pair's streams may stop early.
func (p *pair) truncate(why string, abrupt bool) {
	p.mu.Lock()
	if p.truncated == "" {
		p.truncated = why
	}
	p.abrupt = p.abrupt || abrupt
	p.mu.Unlock()
}

func (p *pair) whyTruncated() (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.truncated, p.abrupt
}

// startClose reports whether the caller is the first to close the pair.
func (p *pair) startClose() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closing {
		return false
	}
	p.closing = true
	return true
}

// endKind is what sits at one end of a connection.
type endKind uint8

const (
	endServer  endKind = iota // a server connection of the stress protocol
	endConnect                // a Service.Connect client of the stress protocol
	endDial                   // a Dial client
	endRaw                    // a raw peer written here
)

var endKindNames = [...]string{"server conn", "Connect client", "Dial client", "raw client"}

// end is one end of a connection: how it sends and what it received.
type end struct {
	sc   *scenario
	pair *pair
	side int
	kind endKind
	peer *end
	rx   *rxCheck
	echo bool // an lws end sending back what it receives

	writer *sender   // its writer (nil when it has none)
	tasks  []*sender // its Send, Post and WriteMessage goroutines

	established chan struct{} // closed once the connection is up at this end
	ended       chan struct{} // closed once this end saw the connection end
	code        int           // the close code this end saw (1006: none); set before ended is closed
	reason      string

	lws          *lwsEnd         // server and Connect ends
	cc           *lws.ClientConn // Dial ends
	raw          *rawPeer        // raw ends
	sendRefusals atomic.Int64    // Conn.Send calls refused with ErrSendQueueFull
	conn         atomic.Pointer[lws.Conn]
}

func (e *end) String() string {
	return fmt.Sprintf("%s of connection %d", endKindNames[e.kind], e.pair.id)
}

// senders are the end's own streams, writer first.
func (e *end) senders() []*sender {
	if e.writer == nil {
		return e.tasks
	}
	return append([]*sender{e.writer}, e.tasks...)
}

// receivesBroadcasts reports whether b's messages are sent by this end:
// it is a connection of the stress protocol on b's service.
func (e *end) receivesBroadcasts(b *sender) bool {
	switch e.kind {
	case endServer:
		return b.side == sideServer
	case endConnect:
		return b.side == sideClient
	}
	return false
}

// broadcastDrops is how many broadcast messages this end's send queue
// refused (Conn.Dropped counts refused Sends too).
func (e *end) broadcastDrops() int64 {
	c := e.conn.Load()
	if c == nil {
		return 0
	}
	return int64(c.Dropped()) - e.sendRefusals.Load()
}

// isEnded reports whether this end saw its connection end.
func (e *end) isEnded() bool {
	select {
	case <-e.ended:
		return true
	default:
		return false
	}
}

// closedWith records how the connection ended at this end.
func (e *end) closedWith(code int, reason string) {
	select {
	case <-e.ended:
		e.sc.fail(fmt.Errorf("%v: ended twice (%d %q, then %d %q)", e, e.code, e.reason, code, reason))
		return
	default:
	}
	e.code, e.reason = code, reason
	close(e.ended)
	e.checkCode()
}

// checkCode fails the scenario at once for a close code no correct peer
// causes here: only 1000, the random closes' 4001 and 4002, and 1006 for
// a dropped or reset connection are expected.
func (e *end) checkCode() {
	switch e.code {
	case 1000, 1006, 4001, 4002:
		return
	}
	e.sc.fail(fmt.Errorf("%v ended with %d %q", e, e.code, e.reason))
}

// fail records the scenario's first failure and stops it.
func (sc *scenario) fail(err error) {
	sc.failMu.Lock()
	if sc.failErr == nil {
		sc.failErr = err
	}
	sc.failMu.Unlock()
	sc.cancel()
}

func (sc *scenario) failed() error {
	sc.failMu.Lock()
	defer sc.failMu.Unlock()
	return sc.failErr
}

// newScenario draws the scenario of seed and builds its senders and
// connection plans.
func newScenario(t *testing.T, seed int64, cellIndex int) *scenario {
	sc := &scenario{t: t, seed: seed, p: drawParams(seed, cellIndex), senders: map[uint32]*sender{},
		chaosStop: make(chan struct{}), settled: make(chan struct{})}
	sc.r = rand.New(rand.NewPCG(uint64(seed), 0xc0))
	sc.ctx, sc.cancel = context.WithCancel(context.Background())
	p := &sc.p
	kinds := make([]endKind, 0, p.raw+p.connect+p.dial)
	for range p.raw {
		kinds = append(kinds, endRaw)
	}
	for range p.connect {
		kinds = append(kinds, endConnect)
	}
	for range p.dial {
		kinds = append(kinds, endDial)
	}
	for i, k := range kinds {
		pr := &pair{id: i, resetSide: -1}
		pr.server = sc.newEnd(pr, sideServer, endServer)
		pr.client = sc.newEnd(pr, sideClient, k)
		pr.server.peer, pr.client.peer = pr.client, pr.server
		if sc.r.Float64() < p.reset {
			pr.resetSide = sideServer
			if k == endConnect && sc.r.IntN(2) == 0 {
				pr.resetSide = sideClient
			}
			pr.resetAfter = int64(sc.r.IntN(512 << 10))
		}
		if sc.r.Float64() < p.randomClose {
			pr.closeAfter = time.Duration(1+sc.r.Int64N(int64(p.activityPadding))) * time.Nanosecond
			pr.closeHow = sc.r.IntN(2)
			if k == endRaw && sc.r.IntN(2) == 0 {
				pr.closeHow = 2
			}
		}
		sc.pairs = append(sc.pairs, pr)
	}
	for side := range 2 {
		for range p.broadcasters {
			sc.broadcasters[side] = append(sc.broadcasters[side], sc.newSender(kindBroadcast, nil, side, stressHeaderSize, p.bcastMsgs))
		}
	}
	return sc
}

func (sc *scenario) newEnd(pr *pair, side int, kind endKind) *end {
	e := &end{sc: sc, pair: pr, side: side, kind: kind, established: make(chan struct{}), ended: make(chan struct{})}
	e.rx = newRxCheck(sc, e)
	p := &sc.p
	if sc.r.IntN(10) != 0 {
		e.writer = sc.newSender(kindWriter, e, side, 0, p.writerMsgs)
	}
	switch kind {
	case endServer, endConnect:
		e.echo = sc.r.Float64() < p.echo
		for range p.sendTasks {
			e.tasks = append(e.tasks, sc.newSender(kindSend, e, side, stressHeaderSize, p.taskMsgs))
		}
		for range p.postTasks {
			e.tasks = append(e.tasks, sc.newSender(kindPost, e, side, stressHeaderSize, p.taskMsgs))
		}
		e.lws = newLWSEnd(e, sc.r.Uint64())
	case endDial:
		for range p.dialTasks {
			e.tasks = append(e.tasks, sc.newSender(kindDial, e, side, stressHeaderSize, p.taskMsgs))
		}
	case endRaw:
		e.raw = &rawPeer{e: e, rng: rand.New(rand.NewPCG(sc.r.Uint64(), 1))}
	}
	return e
}

func (sc *scenario) newSender(kind senderKind, from *end, side, minSize, total int) *sender {
	s := &sender{id: uint32(len(sc.senders) + 1), kind: kind, from: from, side: side, minSize: minSize, total: total}
	sc.senders[s.id] = s
	return s
}

// run runs the scenario: services up, connections established, the
// activity, every stream checked complete, normal closes, services down.
// It returns the first failure.
func (sc *scenario) run() error {
	defer sc.cancel()
	sc.began = time.Now()
	if err := sc.startServices(); err != nil {
		sc.stopServices()
		return err
	}
	if err := sockio.SetFaults(sc.p.faults); err != nil && sockio.FaultInjection {
		sc.stopServices()
		return err
	}
	err := sc.exercise()
	sockio.SetFaults(sockio.Faults{})
	if err == nil {
		err = sc.failed()
	}
	if err != nil {
		sc.abort()
	}
	sc.stopServices()
	if err == nil {
		err = sc.failed()
	}
	return err
}

// exercise establishes the connections, runs the activity, waits for
// every stream to be complete and closes the connections normally.
func (sc *scenario) exercise() error {
	for _, pr := range sc.pairs {
		sc.connect(pr)
	}
	if err := sc.waitAll("established", func(e *end) <-chan struct{} { return e.established }, 60*time.Second); err != nil {
		return err
	}
	sc.phase("established")
	sc.startActivity()
	if err := sc.waitComplete(90 * time.Second); err != nil {
		return err
	}
	sc.phase("complete")
	close(sc.settled)
	close(sc.chaosStop)
	for _, pr := range sc.pairs {
		sc.closeNormally(pr)
	}
	if err := sc.waitAll("ended", func(e *end) <-chan struct{} { return e.ended }, 60*time.Second); err != nil {
		return err
	}
	sc.phase("ended")
	sc.releaseDials()
	if err := waitTimeout(&sc.tasks, 30*time.Second); err != nil {
		return fmt.Errorf("goroutines of the activity still running after every connection ended: %w\n%s", err, stressStacks())
	}
	if err := sc.failed(); err != nil {
		return err
	}
	return sc.checkCloseCodes()
}

// phase records the end of a phase of the run.
func (sc *scenario) phase(name string) {
	sc.phases = append(sc.phases, fmt.Sprintf("%s %v", name, time.Since(sc.began).Round(time.Millisecond)))
}

// waitAll waits until ch of every end is closed.
func (sc *scenario) waitAll(what string, ch func(*end) <-chan struct{}, d time.Duration) error {
	deadline := time.After(d)
	for _, pr := range sc.pairs {
		for _, e := range []*end{pr.server, pr.client} {
			select {
			case <-ch(e):
			case <-sc.ctx.Done():
				return sc.failed()
			case <-deadline:
				return fmt.Errorf("%v not %s after %v", e, what, d)
			}
		}
	}
	return nil
}

// waitComplete waits until every stream of every pair not truncated has
// arrived whole (polling the oracle, which the loops and readers update).
func (sc *scenario) waitComplete(d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		lacking := ""
		for _, pr := range sc.pairs {
			if why, _ := pr.whyTruncated(); why != "" {
				continue
			}
			for _, e := range []*end{pr.server, pr.client} {
				if s := sc.unsent(e); s != "" {
					lacking = s
				} else if s := e.rx.shortfall(); s != "" {
					lacking = fmt.Sprintf("%v has received %s", e, s)
				}
			}
		}
		if lacking == "" {
			return nil
		}
		if err := sc.failed(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("streams incomplete %v after the activity started: %s\nlws ends:\n%s", d, lacking, sc.lwsStates())
		}
		time.Sleep(5 * time.Millisecond) // polling the oracle
	}
}

// unsent says which of e's senders has not sent all its messages yet.
func (sc *scenario) unsent(e *end) string {
	for _, s := range e.senders() {
		if n := s.count(); n != int64(s.total) {
			return fmt.Sprintf("%v has sent %d of %d messages", s, n, s.total)
		}
	}
	for _, b := range sc.broadcasters[e.side] {
		if n := b.count(); n != int64(b.total) {
			return fmt.Sprintf("%v has sent %d of %d messages", b, n, b.total)
		}
	}
	return ""
}

// checkCloseCodes checks how each connection ended at both ends: a
// normal close (1000) when it was not closed at random or reset; else
// the random closes' codes, and 1006 only when the connection was
// dropped or reset. Never a code a correct peer would not cause (1002,
// 1007, 1008, 1011...).
func (sc *scenario) checkCloseCodes() error {
	for _, pr := range sc.pairs {
		why, abrupt := pr.whyTruncated()
		for _, e := range []*end{pr.server, pr.client} {
			ok := false
			switch {
			case why == "":
				ok = e.code == 1000
			case e.code == 4001 || e.code == 4002:
				ok = true
			case e.code == 1006:
				ok = abrupt
			}
			if !ok {
				state := "not closed at random"
				if why != "" {
					state = why
				}
				return fmt.Errorf("%v ended with %d %q (%s)", e, e.code, e.reason, state)
			}
		}
	}
	return nil
}

// startServices creates and runs the server and client services.
func (sc *scenario) startServices() error {
	p := &sc.p
	limits := lws.Limits{
		WriteBufferSize: p.writeBuffer,
		SendQueueSize:   p.sendQueue,
		CloseTimeout:    30 * time.Second,
		PingInterval:    p.pingInterval,
	}
	for side := range 2 {
		sc.proto[side] = sc.stressProtocol(side)
		cfg := lws.Config{
			Protocols: []*lws.Protocol{sc.proto[side]},
			Loops:     p.cell.loops,
			Backend:   pollerBackends[p.cell.poller],
			Limits:    limits,
		}
		if side == sideServer {
			cfg.Addr = "127.0.0.1:0"
			if p.cell.tls {
				cert, _ := testCert()
				cfg.TLS = tlsconn.ServerConfigFor(cert)
			}
		}
		var ext *foreignEpoll
		if p.cell.poller == pollExternal {
			epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
			if err != nil {
				return err
			}
			ext = &foreignEpoll{t: sc.t, epfd: epfd, reg: map[int]evloop.Events{}}
			cfg.External = ext.notifications()
			sc.stopLoops = append(sc.stopLoops, func() { unix.Close(epfd) }) // after the loop below has stopped
		}
		svc, err := lws.New(cfg)
		if err != nil {
			return err
		}
		sc.svc[side] = svc
		if ext != nil {
			var stop atomic.Bool
			done := make(chan struct{})
			go func() {
				defer close(done)
				ext.run(svc, &stop) // closes svc as it ends
			}()
			sc.stopLoops = append([]func(){func() {
				stop.Store(true)
				svc.Post(func() {}) // wakes the loop
				<-done
			}}, sc.stopLoops...)
			continue
		}
		done := make(chan error, 1)
		go func() { done <- svc.Run() }()
		sc.runDone = append(sc.runDone, done)
	}
	if p.cell.tls {
		_, roots := testCert()
		sc.tlsClient = &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}
	}
	return nil
}

// stopServices closes the services (external loops close theirs as they
// stop) and waits for their loops.
func (sc *scenario) stopServices() {
	for _, f := range sc.stopLoops {
		f()
	}
	sc.stopLoops = nil
	if sc.p.cell.poller != pollExternal {
		for _, svc := range sc.svc {
			if svc != nil {
				svc.Close()
			}
		}
	}
	for _, done := range sc.runDone {
		select {
		case err := <-done:
			if err != nil {
				sc.fail(fmt.Errorf("Run: %w", err))
			}
		case <-time.After(30 * time.Second):
			sc.fail(errors.New("Run did not return 30s after Close"))
		}
	}
	sc.runDone = nil
}

// abort unblocks everything after a failure: peers' sockets are closed,
// Dial clients closed, goroutines told to stop.
func (sc *scenario) abort() {
	sc.cancel()
	select {
	case <-sc.chaosStop:
	default:
		close(sc.chaosStop)
	}
	for _, pr := range sc.pairs {
		if r := pr.client.raw; r != nil {
			r.drop(false)
		}
	}
	var wg sync.WaitGroup
	for _, pr := range sc.pairs {
		if cc := pr.client.dialConn(); cc != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cc.Close(1000, "aborted")
			}()
		}
	}
	wg.Wait()
	sc.stopServices()
	waitTimeout(&sc.tasks, 30*time.Second)
}

// url is the server URL a client of pair id dials.
func (sc *scenario) url(id int) string {
	scheme := "ws"
	if sc.p.cell.tls {
		scheme = "wss"
	}
	return fmt.Sprintf("%s://127.0.0.1:%d/stress?pair=%d", scheme, sc.svc[sideServer].Port(), id)
}

// connect opens pair pr's connection from its client.
func (sc *scenario) connect(pr *pair) {
	e := pr.client
	switch e.kind {
	case endRaw:
		sc.goTask(e.raw.connect)
	case endConnect:
		_, err := sc.svc[sideClient].Connect(lws.ClientInfo{URL: sc.url(pr.id), Protocols: []string{"stress"},
			Protocol: sc.proto[sideClient], TLSConfig: sc.tlsClient, User: e})
		if err != nil {
			sc.fail(fmt.Errorf("%v: Connect: %w", e, err))
		}
	case endDial:
		opts := &lws.DialOptions{Protocols: []string{"stress"}, Compression: sc.p.compression, TLSConfig: sc.tlsClient}
		if sc.r.Float64() >= sc.p.sharedDial {
			opts.Service = sc.svc[sideClient]
		}
		seed := sc.r.Uint64()
		sc.goTask(func() { sc.dial(e, opts, seed) })
	}
}

// goTask runs f on a goroutine of the activity.
func (sc *scenario) goTask(f func()) {
	sc.tasks.Add(1)
	go func() {
		defer sc.tasks.Done()
		f()
	}()
}

// startActivity starts every sender, reader and chaos goroutine, and the
// random closes.
func (sc *scenario) startActivity() {
	for _, pr := range sc.pairs {
		for _, e := range []*end{pr.server, pr.client} {
			switch e.kind {
			case endServer, endConnect:
				e.lws.start()
			case endDial:
				sc.startDial(e)
			case endRaw:
				e.raw.start()
			}
		}
		if pr.closeAfter > 0 {
			sc.goTask(func() { sc.closeAtRandom(pr) })
		}
	}
	for side := range 2 {
		for _, b := range sc.broadcasters[side] {
			seed := sc.r.Uint64()
			sc.goTask(func() { sc.broadcast(b, seed) })
		}
	}
}

// broadcast sends b's messages with Service.Broadcast.
func (sc *scenario) broadcast(b *sender, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 3))
	svc := sc.svc[b.side]
	for seq := uint32(0); int(seq) < b.total; seq++ {
		p := b.plan(sc, seq)
		mode := lws.WriteText
		if p.binary {
			mode = lws.WriteBinary
		}
		err := svc.Broadcast(sc.proto[b.side], makeMessage(p, b.id, seq), mode)
		for errors.Is(err, lws.ErrBroadcastBacklog) {
			// Refused everywhere: the same message again a little later.
			if !pace(sc.ctx, r, 1) {
				return
			}
			err = svc.Broadcast(sc.proto[b.side], makeMessage(p, b.id, seq), mode)
		}
		if err != nil {
			sc.fail(fmt.Errorf("%v: Broadcast: %w", b, err))
			return
		}
		b.accepted()
		if !pace(sc.ctx, r, 0.5) {
			return
		}
	}
}

// pace lets other goroutines run between a sender's messages: with
// chance p a short sleep. It reports false when the scenario stopped.
func pace(ctx context.Context, r *rand.Rand, p float64) bool {
	if r.Float64() < p {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Duration(r.IntN(2000)) * time.Microsecond): // spreading the senders out, not waiting for anything
		}
	}
	return ctx.Err() == nil
}

// closeAtRandom closes pair pr part way through the activity.
func (sc *scenario) closeAtRandom(pr *pair) {
	select {
	case <-time.After(pr.closeAfter): // the random point of the close
	case <-sc.settled:
		return
	case <-sc.ctx.Done():
		return
	}
	if !pr.startClose() {
		return
	}
	switch c := pr.client; {
	case pr.closeHow == 2:
		pr.truncate("raw client dropped the TCP connection", true)
		c.raw.drop(true)
	case pr.closeHow == 1:
		pr.truncate("server closed with 4002", false)
		pr.server.lws.post(func(c *lws.Conn) { pr.server.lws.closeConn(c, 4002, "random") })
	default:
		pr.truncate("client closed with 4001", false)
		sc.closeClient(c, 4001, "random")
	}
}

// closeNormally closes pair pr from its client with 1000 once everything
// arrived.
func (sc *scenario) closeNormally(pr *pair) {
	if !pr.startClose() {
		return
	}
	sc.closeClient(pr.client, 1000, "done")
}

// closeClient starts the close handshake from the client end e.
func (sc *scenario) closeClient(e *end, code int, reason string) {
	switch e.kind {
	case endConnect:
		e.lws.post(func(c *lws.Conn) { e.lws.closeConn(c, code, reason) })
	case endDial:
		sc.goTask(func() { sc.closeDial(e, code, reason) })
	case endRaw:
		e.raw.close(code, reason)
	}
}

// waitTimeout waits for wg, at most d.
func waitTimeout(wg *sync.WaitGroup, d time.Duration) error {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-time.After(d):
		return fmt.Errorf("still waiting after %v", d)
	}
}

// stressStacks are the stacks of the goroutines running the stress
// test's own functions.
func stressStacks() string {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "lws_test.(*") && !strings.Contains(g, "TestStress") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}

// lwsStates describes the lws ends' state, as their loops see it.
func (sc *scenario) lwsStates() string {
	var b strings.Builder
	for _, pr := range sc.pairs {
		for _, e := range []*end{pr.server, pr.client} {
			l := e.lws
			if l == nil || e.isEnded() {
				continue
			}
			ch := make(chan string, 1)
			err := l.post(func(c *lws.Conn) {
				ch <- fmt.Sprintf("%v: %d bytes buffered, %d queued, RxPaused %v (%d pauses), outbox %d, writer at %d with %d fragments left",
					e, c.Buffered(), c.Queued(), c.RxPaused(), l.pauses, len(l.outbox), l.wseq, len(l.frags))
			})
			if err != nil {
				continue
			}
			select {
			case s := <-ch:
				b.WriteString(s + "\n")
			case <-time.After(5 * time.Second):
				fmt.Fprintf(&b, "%v: its loop did not run a posted function within 5s\n", e)
			}
		}
	}
	return b.String()
}

// endings lists how each connection ended so far, at both ends.
func (sc *scenario) endings() string {
	var b strings.Builder
	for _, pr := range sc.pairs {
		why, _ := pr.whyTruncated()
		fmt.Fprintf(&b, "connection %d (%s):", pr.id, endKindNames[pr.client.kind])
		for _, e := range []*end{pr.server, pr.client} {
			sc.failMu.Lock()
			ended := e.isEnded()
			sc.failMu.Unlock()
			if ended {
				fmt.Fprintf(&b, " %s %d %q;", sideName(e.side), e.code, e.reason)
			} else {
				fmt.Fprintf(&b, " %s open;", sideName(e.side))
			}
		}
		if why != "" {
			fmt.Fprintf(&b, " %s", why)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// describe is the scenario in one line.
func (sc *scenario) describe() string {
	p := &sc.p
	var b strings.Builder
	fmt.Fprintf(&b, "%v; %d raw, %d Connect, %d Dial clients; writer %d msgs, tasks %d Send %d Post %d Dial x %d msgs, %d broadcasters x %d msgs; max %d B",
		p.cell, p.raw, p.connect, p.dial, p.writerMsgs, p.sendTasks, p.postTasks, p.dialTasks, p.taskMsgs, p.broadcasters, p.bcastMsgs, p.maxSize)
	fmt.Fprintf(&b, "; reassemble %v rxbuf %v echo %.1f pause %.2f chaos %v slow %.2f; write buffer %d send queue %d ping %v; random close %.2f reset %.2f",
		p.reassemble, p.rxBuffer, p.echo, p.pause, p.chaos, p.slowReaders, p.writeBuffer, p.sendQueue, p.pingInterval, p.randomClose, p.reset)
	fmt.Fprintf(&b, "; faults short r/w %.2f/%.2f EAGAIN %.2f EINTR %.2f", p.faults.ShortRead, p.faults.ShortWrite, p.faults.EAGAIN, p.faults.EINTR)
	return b.String()
}
