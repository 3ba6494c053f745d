package backplane_test

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/backplane"
)

// TestStreamModel drives a group of durable servers at random: clients
// send, drop their connections and reconnect to any server presenting
// their positions (now and then afresh), NATS stops and starts, servers
// restart, or are killed while their clients send. The oracle is each
// client's streamReader: per sender, every message once and in order,
// with no hole unless a status said so (a refused recovery, a gap); at
// the end every client has every message sent since its last fresh start
// (after a gap, but for the last messages of senders gone meanwhile:
// they may have been in it). A killed server loses what the stream had
// not stored: its clients' senders then owe every client what the
// stream holds of theirs, no more. And the stream itself, read at the
// end, holds every message once and in order, per server run and per
// sender.
//
// Fixed seeds for make test; STREAM_SEED=<n> replays one seed;
// STRESS_TIME=<duration> runs fresh seeds, with longer runs (200 steps),
// until it has passed; STREAM_STEPS=<n> sets the steps per seed.
func TestStreamModel(t *testing.T) {
	steps := 40
	var seeds []int64
	stress, _ := time.ParseDuration(os.Getenv("STRESS_TIME"))
	switch {
	case os.Getenv("STREAM_SEED") != "":
		seed, err := strconv.ParseInt(os.Getenv("STREAM_SEED"), 10, 64)
		if err != nil {
			t.Fatalf("STREAM_SEED: %v", err)
		}
		seeds = []int64{seed}
	case stress > 0:
		steps = 200
	default:
		seeds = []int64{1, 2, 3}
	}
	if n, err := strconv.Atoi(os.Getenv("STREAM_STEPS")); err == nil {
		steps = n
	}
	end := time.Now().Add(stress)
	var tally modelTally
	defer func() { t.Logf("stream model: %v", tally) }()
	for i := 0; i < len(seeds) || stress > 0 && time.Now().Before(end); i++ {
		seed := time.Now().UnixNano()
		if i < len(seeds) {
			seed = seeds[i]
		}
		t.Run(strconv.FormatInt(seed, 10), func(t *testing.T) {
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("replay: cd backplane && STREAM_SEED=%d STREAM_STEPS=%d go test -race -count=1 -run 'TestStreamModel' .", seed, steps)
				}
			})
			runStreamModel(t, seed, steps, &tally)
		})
		if t.Failed() {
			return
		}
	}
}

// modelTally sums what the model test's runs did and checked, for the
// figures of a long run (make stress, make soak-backplane).
type modelTally struct {
	runs, steps, shortHistory                int
	sent, stored, delivered                  int
	duplicates, missing, lost, killLost      int
	natsRestarts, serverRestarts, kills      int
	reconnects, recovered, freshStarts, gaps int
	notRecovered                             map[string]int // by reason
}

func (t modelTally) String() string {
	refused := 0
	for _, n := range t.notRecovered {
		refused += n
	}
	return fmt.Sprintf("%d runs (%d with a 150-message history), %d steps: %d messages sent, %d stream messages checked (each once and in order per server run and per sender), "+
		"%d deliveries checked: %d duplicates, %d missing without a status, %d lost after a gap (short history only), %d lost with a killed server (sent, never stored); "+
		"%d NATS restarts, %d server restarts, %d servers killed, %d client connections (%d recoveries granted, %d refused %v, %d fresh starts), %d gaps on live connections",
		t.runs, t.shortHistory, t.steps, t.sent, t.stored,
		t.delivered, t.duplicates, t.missing, t.lost, t.killLost,
		t.natsRestarts, t.serverRestarts, t.kills, t.reconnects, t.recovered, refused, t.notRecovered, t.freshStarts, t.gaps)
}

// modelSender is a sender of numbered messages: a client from its first
// connection until it starts afresh (presents no position, or its
// recovery is refused). Order is kept per sender: a client that starts
// afresh gave up what it had read, so its later messages are a new
// sender's.
type modelSender struct {
	id      int
	sent    int
	retired bool // the client went on as another sender
	certain int  // retired: the messages known to have been taken (the rest went with a closed connection, or not)
	// killedWith: retired when its server was killed as it sent, with
	// the clients that server had (they may have got more of it, ahead
	// of the stream); what the stream holds of it is its due.
	killedWith map[int]bool
	dueKnown   bool // killed: the stream showed what it holds of it
}

// need is how many of its messages every reader must get.
func (s *modelSender) need() int {
	if s.retired {
		return s.certain
	}
	return s.sent
}

type modelClient struct {
	id     int
	srv    int
	c      *backplane.Client
	r      *streamReader
	done   chan struct{} // closed when the reading of c ends
	snd    *modelSender
	floors map[int]map[int]int // per fresh start, what every sender had sent then
}

type streamModel struct {
	tally   *modelTally
	t       *testing.T
	rnd     *rand.Rand
	js      *jsServer
	natsUp  bool
	long    bool // the history outlasts the run: nothing may be lost
	srv     []*durableServer
	clients []*modelClient
	senders []*modelSender
}

func runStreamModel(t *testing.T, seed int64, steps int, tally *modelTally) {
	m := &streamModel{t: t, tally: tally, rnd: rand.New(rand.NewSource(seed)), natsUp: true}
	m.js = startJetStream(t)
	opts := &backplane.StreamOptions{
		MaxMsgs:        []int64{150, 100000}[m.rnd.Intn(2)],
		CacheMsgs:      []int{8, 64, 4096}[m.rnd.Intn(3)],
		RecoverTimeout: 2 * time.Second,
	}
	t.Logf("seed %d: %d steps, history %d messages, cache %d", seed, steps, opts.MaxMsgs, opts.CacheMsgs)
	tally.runs++
	tally.steps += steps
	m.long = opts.MaxMsgs >= 1000
	if !m.long {
		tally.shortHistory++
	}
	for i := 0; i < 3; i++ {
		m.srv = append(m.srv, startDurableServer(t, m.js.url(), "model", fmt.Sprintf("s%d", i), opts))
		m.srv[i].ready(t)
	}
	for i := 0; i < 5; i++ {
		m.clients = append(m.clients, &modelClient{id: i, r: newStreamReader(), floors: map[int]map[int]int{}})
	}
	for _, cl := range m.clients {
		m.connect(cl, m.rnd.Intn(3), "")
	}
	t.Cleanup(func() {
		for _, cl := range m.clients {
			m.disconnect(cl)
		}
	})
	trace := os.Getenv("STREAM_TRACE") != ""

	for step := 0; step < steps; step++ {
		op := m.rnd.Intn(20)
		switch {
		case op < 10:
			cl := m.clients[m.rnd.Intn(len(m.clients))]
			n := 1 + m.rnd.Intn(20)
			if trace {
				t.Logf("step %d: client %d (sender %d) sends %d", step, cl.id, cl.snd.id, n)
			}
			m.send(cl, n)
		case op < 15:
			cl := m.clients[m.rnd.Intn(len(m.clients))]
			fresh, to := m.rnd.Intn(8) == 0, m.rnd.Intn(3)
			// Messages not back yet would be lost with the connection.
			// While NATS is down they may be held until it is back.
			if !m.settle(cl, !m.natsUp) {
				continue
			}
			m.disconnect(cl)
			since := cl.c.Position()
			if fresh {
				since = ""
			}
			if trace {
				t.Logf("step %d: client %d: server %d -> %d since %q", step, cl.id, cl.srv, to, since)
			}
			m.connect(cl, to, since)
		case op < 18:
			if trace {
				t.Logf("step %d: NATS up %v -> %v", step, m.natsUp, !m.natsUp)
			}
			m.toggleNATS()
		default:
			i, kill := m.rnd.Intn(3), op == 19
			if !m.natsUp { // a server stopped while NATS is down loses its buffer
				continue
			}
			if trace {
				t.Logf("step %d: server %d restarts (killed: %v)", step, i, kill)
			}
			if kill {
				m.killServer(i)
			} else {
				m.restartServer(i)
			}
		}
	}

	if !m.natsUp {
		m.toggleNATS()
	}
	for _, cl := range m.clients {
		m.send(cl, 1)
		m.settle(cl, false)
	}
	m.checkStream()
	for _, cl := range m.clients {
		_, fresh := cl.r.statusCount()
		floor := cl.floors[fresh]
		cl.r.mu.Lock()
		gapped := cl.r.statuses[backplane.Gap] > 0
		cl.r.mu.Unlock()
		for _, s := range m.senders {
			if s.need() <= floor[s.id] {
				continue // all sent before the client's last fresh start
			}
			if gapped && s.retired {
				continue // its last messages may have gone in the gap
			}
			if !waitFor(60*time.Second, func() bool { return cl.r.reached(s.need()-1, []int{s.id}) }) {
				m.dump()
				cl.r.mu.Lock()
				t.Fatalf("client %d (server %d) did not get message %d of sender %d: last %v, statuses %v", cl.id, cl.srv, s.need()-1, s.id, cl.r.last, cl.r.statuses)
				cl.r.mu.Unlock()
			}
		}
	}
	for _, s := range m.senders {
		tally.sent += s.sent
		if s.dueKnown {
			tally.killLost += s.sent - s.certain
		}
	}
	for _, cl := range m.clients {
		cl.r.check(t, fmt.Sprintf("client %d", cl.id))
		cl.r.checkFirsts(t, fmt.Sprintf("client %d", cl.id), cl.floors)
		cl.r.mu.Lock()
		t.Logf("client %d: %d messages, %d lost after a gap, statuses %v, refused %v", cl.id, cl.r.count, cl.r.lost, cl.r.statuses, cl.r.refusals)
		for _, s := range m.senders {
			// A killed server's messages the stream does not hold reach
			// only the clients that server had (ahead of the stream).
			if last, ok := cl.r.last[s.id]; ok && s.dueKnown && !s.killedWith[cl.id] && last >= s.certain {
				t.Errorf("client %d got message %d of sender %d, whose server was killed with %d stored", cl.id, last, s.id, s.certain)
			}
		}
		if m.long {
			// Nothing leaves the history during the run: no gap, and a
			// recovery is refused only while NATS or the stream is out of
			// reach (or was, when the position was given).
			if cl.r.lost > 0 || cl.r.statuses[backplane.Gap] > 0 {
				t.Errorf("client %d: %d lost after %d gaps with a history longer than the run", cl.id, cl.r.lost, cl.r.statuses[backplane.Gap])
			}
			for why := range cl.r.refusals {
				if why != "timed out waiting for the stream" && why != "history unavailable" && why != "no epoch" {
					t.Errorf("client %d: recovery refused (%s) with a history longer than the run", cl.id, why)
				}
			}
		}
		tally.delivered += cl.r.count
		tally.duplicates += cl.r.duplicates
		tally.missing += cl.r.missing
		tally.lost += cl.r.lost
		tally.recovered += cl.r.statuses[backplane.Recovered]
		tally.gaps += cl.r.statuses[backplane.Gap]
		tally.freshStarts += cl.r.statuses[backplane.At]
		for why, n := range cl.r.refusals {
			if tally.notRecovered == nil {
				tally.notRecovered = map[string]int{}
			}
			tally.notRecovered[why] += n
		}
		cl.r.mu.Unlock()
	}
	for i, s := range m.srv {
		t.Logf("server %d: %+v", i, s.st.Stats())
	}
}

// connect connects cl to server srv presenting since and waits for the
// connection's first status. A fresh start makes cl a new sender and
// records what every sender had sent then.
func (m *streamModel) connect(cl *modelClient, srv int, since string) {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	statuses, fresh0 := cl.r.statusCount()
	c, err := backplane.Dial(ctx, m.srv[srv].url("span"), since, &lws.DialOptions{Protocols: []string{mirrorProto}})
	if err != nil {
		m.t.Fatalf("client %d: Dial server %d: %v", cl.id, srv, err)
	}
	cl.c, cl.srv, cl.done = c, srv, make(chan struct{})
	m.tally.reconnects++
	go func() {
		defer close(cl.done)
		cl.r.readAll(c)
	}()
	var fresh int
	if !waitFor(20*time.Second, func() bool {
		var n int
		n, fresh = cl.r.statusCount()
		return n > statuses
	}) {
		m.t.Fatalf("client %d: no status from server %d", cl.id, srv)
	}
	if fresh > fresh0 || cl.snd == nil {
		if old := cl.snd; old != nil && !old.retired {
			old.retired, old.certain = true, old.sent // settled before the reconnect
		}
		cl.snd = &modelSender{id: len(m.senders)}
		m.senders = append(m.senders, cl.snd)
		floor := map[int]int{}
		for _, s := range m.senders {
			floor[s.id] = s.sent
		}
		cl.floors[fresh] = floor
	}
}

func (m *streamModel) disconnect(cl *modelClient) {
	cl.c.Close(1000, "")
	<-cl.done
}

// alive reconnects cl, presenting its position, when the server closed
// its connection (1013: a recovery interrupted, a reader too slow): the
// messages it sent that had not come back may be lost with the
// connection, so it goes on as a new sender, its old one retired with
// what came back.
func (m *streamModel) alive(cl *modelClient) {
	m.t.Helper()
	select {
	case <-cl.done:
	default:
		return
	}
	s := cl.snd
	certain := 0
	cl.r.mu.Lock()
	if last, ok := cl.r.last[s.id]; ok {
		certain = last + 1
	}
	cl.r.mu.Unlock()
	m.retire(cl, certain)
	if os.Getenv("STREAM_TRACE") != "" {
		m.t.Logf("client %d: closed by server %d: reconnects as sender %d, sender %d retired with %d of %d", cl.id, cl.srv, cl.snd.id, s.id, s.certain, s.sent)
	}
	m.connect(cl, cl.srv, cl.c.Position())
}

// retire makes cl go on as a new sender, its old one owing every client
// its first certain messages.
func (m *streamModel) retire(cl *modelClient, certain int) {
	cl.snd.retired, cl.snd.certain = true, certain
	cl.snd = &modelSender{id: len(m.senders)}
	m.senders = append(m.senders, cl.snd)
}

// send sends n messages from cl.
func (m *streamModel) send(cl *modelClient, n int) {
	m.t.Helper()
	m.alive(cl)
	for i := 0; i < n; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := cl.c.Conn().WriteMessage(ctx, lws.WriteText, []byte(fmt.Sprintf("%d %d", cl.snd.id, cl.snd.sent)))
		cancel()
		if err != nil {
			m.t.Fatalf("client %d: send: %v", cl.id, err)
		}
		cl.snd.sent++
	}
}

// settle waits until cl has got its own messages back: then its server
// has taken them. With mayFail it gives up after a short while (its
// messages may be held until NATS is back) and reports false.
func (m *streamModel) settle(cl *modelClient, mayFail bool) bool {
	m.t.Helper()
	s := cl.snd
	if s.sent == 0 {
		return true
	}
	// A message held behind what its client had read ahead of the stream
	// from a server killed since is published after HoldTimeout (1m).
	wait := 90 * time.Second
	if mayFail {
		wait = time.Second
	}
	closed := false
	if waitFor(wait, func() bool {
		select {
		case <-cl.done:
			closed = true
			return true
		default:
		}
		return cl.r.reached(s.sent-1, []int{s.id})
	}) {
		if closed {
			m.alive(cl)
		}
		return true
	}
	if !mayFail {
		m.dump()
		cl.r.mu.Lock()
		m.t.Fatalf("client %d (server %d) never got its own message %d back: last %v, statuses %v", cl.id, cl.srv, s.sent-1, cl.r.last, cl.r.statuses)
		cl.r.mu.Unlock()
	}
	return false
}

// dump logs the servers' positions and counters, and the clients'.
func (m *streamModel) dump() {
	for i, s := range m.srv {
		m.t.Logf("server %d at %v: %+v", i, s.st.Position(), s.st.Stats())
	}
	for _, cl := range m.clients {
		cl.r.mu.Lock()
		m.t.Logf("client %d on server %d, sender %d (%d sent): statuses %v", cl.id, cl.srv, cl.snd.id, cl.snd.sent, cl.r.statuses)
		cl.r.mu.Unlock()
	}
}

func (m *streamModel) toggleNATS() {
	m.t.Helper()
	if m.natsUp {
		m.js.stop()
	} else {
		m.js.start()
		m.tally.natsRestarts++
	}
	m.natsUp = !m.natsUp
	for i, s := range m.srv {
		if !waitFor(20*time.Second, func() bool { return s.bp.Conn().IsConnected() == m.natsUp }) {
			m.t.Fatalf("server %d: connected %v, want %v", i, !m.natsUp, m.natsUp)
		}
	}
}

// restartServer stops a server and starts it again; its clients
// reconnect to any server with their positions.
func (m *streamModel) restartServer(i int) {
	m.t.Helper()
	for _, cl := range m.clients {
		if cl.srv == i {
			m.settle(cl, false)
		}
	}
	m.srv[i].stop()
	m.srv[i].start()
	m.tally.serverRestarts++
	for _, cl := range m.clients {
		if cl.srv == i {
			<-cl.done
			m.connect(cl, m.rnd.Intn(3), cl.c.Position())
		}
	}
}

// killServer kills server i (durableServer.kill) while its clients
// send: what it had before is stored first, so what may be lost is what
// they are sending, each from a goroutine of its own, when the kill
// comes, after the stream has stored k of those messages (k at random).
// Their senders are retired, owing what the stream holds of them
// (checkStream reads it); the server starts again and the clients
// reconnect to any server with their positions, as new senders.
func (m *streamModel) killServer(i int) {
	m.t.Helper()
	srv := m.srv[i]
	var on []*modelClient
	for _, cl := range m.clients {
		if cl.srv == i {
			m.settle(cl, false)
			m.alive(cl)
			on = append(on, cl)
		}
	}
	if !waitFor(30*time.Second, func() bool { return srv.st.Stats().Buffered == 0 }) {
		m.t.Fatalf("server %d: %d messages never stored with NATS up", i, srv.st.Stats().Buffered)
	}
	published, burst := srv.st.Stats().Published, 0
	killedWith := map[int]bool{}
	var sending sync.WaitGroup
	for _, cl := range on {
		killedWith[cl.id] = true
		cl.snd.killedWith, cl.snd.certain = killedWith, cl.snd.sent
		n := 20 + m.rnd.Intn(80)
		burst += n
		sending.Add(1)
		go func() {
			defer sending.Done()
			m.sendUntilClosed(cl, n)
		}()
	}
	k := uint64(m.rnd.Intn(burst/2 + 1))
	// Messages held behind what their client had read (PublishFrom) may
	// never be published: then the kill comes after a moment.
	waitFor(2*time.Second, func() bool { return srv.st.Stats().Published >= published+k })
	srv.kill(m.js)
	sending.Wait()
	m.tally.kills++
	srv.start()
	for _, cl := range on {
		<-cl.done
		m.retire(cl, cl.snd.certain) // checkStream makes it what the stream holds
		m.connect(cl, m.rnd.Intn(3), cl.c.Position())
	}
}

// sendUntilClosed sends up to n messages from cl, until its connection
// fails; a message counts as sent once written whole.
func (m *streamModel) sendUntilClosed(cl *modelClient, n int) {
	for i := 0; i < n; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := cl.c.Conn().WriteMessage(ctx, lws.WriteText, []byte(fmt.Sprintf("%d %d", cl.snd.id, cl.snd.sent)))
		cancel()
		if err != nil {
			return
		}
		cl.snd.sent++
	}
}

// checkStream checks, once everything sent is stored, what the stream
// holds (checkStored): each message once, in order, per server run and
// per sender. When the history still has all of it, every message of a
// sender still sending is there, and as many of a retired sender as a
// client got. Of a sender whose server was killed, at least what was
// stored before: what it holds becomes the sender's due (when the
// history lost all of it, the due stays what was stored before).
func (m *streamModel) checkStream() {
	m.t.Helper()
	for i, s := range m.srv {
		if !waitFor(90*time.Second, func() bool { return s.st.Stats().Buffered == 0 }) {
			m.t.Fatalf("server %d: %d messages never stored", i, s.st.Stats().Buffered)
		}
	}
	msgs, first := readStored(m.t, m.js, m.srv[0])
	stored := checkStored(m.t, msgs, first == 1)
	m.tally.stored += len(msgs) - 1 // the marker
	for _, s := range m.senders {
		n, known := stored[s.id]
		switch {
		case s.killedWith != nil:
			known = known || first == 1 // whole: none of it, if not seen
			if known && n < s.certain {
				m.t.Errorf("sender %d: the stream holds %d of its messages, %d were stored before its server was killed", s.id, n, s.certain)
			}
			if known {
				s.certain, s.dueKnown = n, true
			}
		case first > 1:
			// The history lost some: a count of what is left says nothing.
		case !s.retired && n != s.sent:
			m.t.Errorf("sender %d: the stream holds %d of its %d messages", s.id, n, s.sent)
		case s.retired && n < s.certain:
			m.t.Errorf("sender %d (retired): the stream holds %d of its messages, %d were delivered", s.id, n, s.certain)
		}
	}
}
