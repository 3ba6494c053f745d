//go:build unix

package lws_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lws-go/lws"
)

const endMarker = 0xFF // sender byte of the message that ends a test

// seqReader reads numbered messages (sender byte, big-endian uint32
// sequence) from one connection and checks that each sender's messages
// arrive once and in order: after the first one seen, every next one is
// the previous plus one.
type seqReader struct {
	rc      *rawConn
	senders int
	first   []int // first sequence seen per sender, -1 for none
	last    []int
	count   []int
	err     error
	got     atomic.Int64
	done    chan struct{}

	// progress, when set, is signalled every 64 messages (pacing).
	progress *sync.Cond
}

func newSeqReader(rc *rawConn, senders int, progress *sync.Cond) *seqReader {
	r := &seqReader{rc: rc, senders: senders, first: make([]int, senders), last: make([]int, senders), count: make([]int, senders), done: make(chan struct{}), progress: progress}
	for i := range r.first {
		r.first[i], r.last[i] = -1, -1
	}
	go r.run()
	return r
}

func (r *seqReader) run() {
	got := int64(0)
	defer func() {
		r.got.Store(got)
		close(r.done)
		if r.progress != nil {
			r.progress.L.Lock()
			r.progress.Broadcast()
			r.progress.L.Unlock()
		}
	}()
	// Frames are parsed straight from a big read buffer: millions of them
	// go through this loop under the race detector, so it stays simple.
	buf := make([]byte, 64<<10)
	have, off := 0, 0
	for {
		if have-off < 2 || have-off < 2+int(buf[off+1]&0x7f) {
			have = copy(buf, buf[off:have])
			off = 0
			r.rc.SetReadDeadline(time.Now().Add(60 * time.Second))
			n, err := r.rc.r.Read(buf[have:])
			if err != nil {
				r.err = err
				return
			}
			have += n
			continue
		}
		b0, n := buf[off], int(buf[off+1])
		if b0 == 0x89 || b0 == 0x8a { // a keepalive PING
			off += 2 + n&0x7f
			continue
		}
		if b0 != 0x82 || n != 5 {
			r.err = fmt.Errorf("frame % x..., want whole 5-byte binary messages", buf[off:off+2])
			return
		}
		p := buf[off+2 : off+7]
		off += 7
		s, seq := int(p[0]), int(binary.BigEndian.Uint32(p[1:]))
		if s == endMarker {
			return
		}
		if s >= r.senders {
			r.err = fmt.Errorf("unknown sender %d", s)
			return
		}
		if r.first[s] >= 0 && seq != r.last[s]+1 {
			r.err = fmt.Errorf("sender %d: message %d after %d (each message once, in order)", s, seq, r.last[s])
			return
		}
		if r.first[s] < 0 {
			r.first[s] = seq
		}
		r.last[s] = seq
		r.count[s]++
		if got++; got%64 == 0 {
			r.got.Store(got)
			if r.progress != nil {
				r.progress.L.Lock()
				r.progress.Broadcast()
				r.progress.L.Unlock()
			}
		}
	}
}

func (r *seqReader) ended() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

func numbered(sender, seq int) []byte {
	var b [5]byte
	b[0] = byte(sender)
	binary.BigEndian.PutUint32(b[1:], uint32(seq))
	return b[:]
}

// TestBroadcastStress: 8 goroutines each broadcast 10,000 numbered
// messages to 100 connections on two loops while some connections close
// and others open. Every connection open throughout receives every
// message of every sender exactly once and in order; one that joined late
// receives each sender's messages from some point on, without gaps, to the
// last; closed connections refuse Send with ErrClosed.
func TestBroadcastStress(t *testing.T) {
	const senders, perSender, stable, churned = 8, 10000, 80, 20
	tr := newSendTracker()
	p := tr.protocol("bcast")
	// The readers send nothing: no keepalive PINGs for them to answer, and
	// room for a slow handshake under -race on a loaded machine.
	svc := startService(t, lws.Config{Loops: 2, Protocols: []*lws.Protocol{p},
		Limits: lws.Limits{PingInterval: -1, HandshakeTimeout: time.Minute}})

	dial := func(name string) *seqReader {
		rc, err := dialPath(svc, "bcast", name, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rc.Close() })
		return newSeqReader(rc, senders, nil)
	}
	var readers []*seqReader
	for i := 1; i < stable+churned; i++ {
		readers = append(readers, dial(fmt.Sprintf("/%d", i)))
	}
	// The senders keep at most window messages ahead of the first stable
	// reader, so the broadcasts spread over the run and the churn happens
	// during it.
	const window = 2000
	var paceMu sync.Mutex
	pace := sync.NewCond(&paceMu)
	rc0, err := dialPath(svc, "bcast", "/paced", 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rc0.Close() })
	readers = append([]*seqReader{newSeqReader(rc0, senders, pace)}, readers...)
	var posted atomic.Int64
	tr.wait(t, "all connections", func() bool { return len(tr.open) == stable+churned })

	// Churn: close one of the churned connections and open a new one,
	// until the senders are done. Sender 0 waits for one churn cycle every
	// 1,000 messages, so at least 10 happen while messages flow.
	stop := make(chan struct{})
	churnDone := make(chan error, 1)
	cycled := make(chan struct{}, senders*perSender)
	var late []*seqReader
	go func() {
		var err error
		defer func() { churnDone <- err }()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			victim := readers[stable+i%churned]
			if i >= churned {
				victim = late[i-churned]
			}
			victim.rc.Close()
			<-victim.done
			path := fmt.Sprintf("/late%d", i)
			rc, derr := dialPath(svc, "bcast", path, 0)
			if derr != nil {
				err = derr
				return
			}
			late = append(late, newSeqReader(rc, senders, nil))
			tr.mu.Lock()
			for tr.byPath[path] == nil {
				tr.cond.Wait()
			}
			tr.mu.Unlock()
			cycled <- struct{}{}
		}
	}()

	var wg sync.WaitGroup
	for s := 0; s < senders; s++ {
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			for i := 0; i < perSender; i++ {
				if s == 0 && i%1000 == 999 {
					select {
					case <-cycled:
					case <-time.After(time.Minute):
						t.Errorf("no churn cycle in a minute")
						return
					}
				}
				if posted.Add(1)-readers[0].got.Load() > window {
					paceMu.Lock()
					for posted.Load()-readers[0].got.Load() > window && !readers[0].ended() {
						pace.Wait()
					}
					paceMu.Unlock()
				}
				if err := svc.Broadcast(p, numbered(s, i), lws.WriteBinary); err != nil {
					t.Errorf("sender %d: Broadcast: %v", s, err)
					return
				}
			}
		}(s)
	}
	wg.Wait()
	close(stop)
	if err := <-churnDone; err != nil {
		t.Fatalf("churn: %v", err)
	}
	// Every broadcast above is posted before this marker, so a reader that
	// sees the marker has seen all it will get.
	if err := svc.Broadcast(p, numbered(endMarker, 0), lws.WriteBinary); err != nil {
		t.Fatal(err)
	}
	live := readers[:stable:stable]
	if len(late) < churned {
		live = append(live, readers[stable+len(late):]...)
	}
	live = append(live, late[max(0, len(late)-churned):]...)
	total := 0
	for i, r := range live {
		select {
		case <-r.done:
		case <-time.After(2 * time.Minute):
			t.Fatalf("reader %d: no end marker after 2 minutes (got %d messages)", i, r.got.Load())
		}
		if r.err != nil {
			t.Fatalf("reader %d: %v", i, r.err)
		}
		for s := 0; s < senders; s++ {
			if i < stable && (r.first[s] != 0 || r.count[s] != perSender) {
				t.Fatalf("connection %d open throughout: sender %d messages %d..%d (%d), want 0..%d", i, s, r.first[s], r.last[s], r.count[s], perSender-1)
			}
			if r.count[s] > 0 && r.last[s] != perSender-1 {
				t.Fatalf("late connection %d: sender %d stopped at %d", i, s, r.last[s])
			}
		}
		total += int(r.got.Load())
	}

	// Closed connections: no panic, and Send reports ErrClosed.
	tr.mu.Lock()
	closed := append([]*lws.Conn(nil), tr.closed...)
	tr.mu.Unlock()
	if len(closed) < 10 {
		t.Fatalf("only %d connections closed during the run", len(closed))
	}
	for _, c := range closed {
		if err := c.Send([]byte("x"), lws.WriteText); !errors.Is(err, lws.ErrClosed) {
			t.Fatalf("Send on a closed connection: %v", err)
		}
	}
	t.Logf("%d broadcasts, %d live connections received %d messages; %d connections closed and %d opened during the run",
		senders*perSender, len(live), total, len(closed), len(late))
}

// TestBroadcastSlowReader: one connection reads nothing while another
// reads everything. The sender paces itself on the fast reader only. The
// slow connection's send queue fills up and the overflow policy applies:
// under OverflowDrop it keeps getting whole messages, in order, with the
// refused ones counted by Conn.Dropped (received + dropped = sent); under
// the close policies it is closed with 1008 or 1011 after an unbroken
// prefix. The fast reader gets every message in order either way, so the
// full queue never stalls the loop.
func TestBroadcastSlowReader(t *testing.T) {
	for _, tc := range []struct {
		policy lws.OverflowPolicy
		code   int
	}{
		{lws.OverflowDrop, 0},
		{lws.OverflowClosePolicy, 1008},
		{lws.OverflowCloseInternal, 1011},
	} {
		t.Run(tc.policy.String(), func(t *testing.T) {
			testSlowReader(t, tc.policy, tc.code)
		})
	}
}

func testSlowReader(t *testing.T, policy lws.OverflowPolicy, code int) {
	const (
		msgSize = 4 << 10
		count   = 4000 // 16 MiB: more than the kernel buffers of the slow socket
		window  = 16   // messages in flight ahead of the fast reader
		limit   = 256 << 10
	)
	tr := newSendTracker()
	p := tr.protocol("slow")
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{p},
		Limits: lws.Limits{SendQueueSize: limit, SendQueueOverflow: policy,
			// The slow reader reads only after the broadcasts end, which
			// can take long on a loaded machine: the close handshake and
			// the stall watch must wait for it.
			PingInterval: -1, WriteStallTimeout: 2 * time.Minute, CloseTimeout: 2 * time.Minute}})
	slow, err := dialPath(svc, "slow", "/slow", 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fast, err := dialPath(svc, "slow", "/fast", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	slowConn := tr.get(t, "/slow")
	tr.get(t, "/fast")

	msg := func(i int) []byte {
		b := bytes.Repeat([]byte{byte(i)}, msgSize)
		binary.BigEndian.PutUint32(b, uint32(i))
		return b
	}
	check := func(who string, p []byte) (int, error) {
		if len(p) != msgSize {
			return 0, fmt.Errorf("%s: message of %d bytes", who, len(p))
		}
		i := int(binary.BigEndian.Uint32(p))
		if !bytes.Equal(p, msg(i)) {
			return 0, fmt.Errorf("%s: message %d corrupted", who, i)
		}
		return i, nil
	}

	var fastGot atomic.Int64
	fastErr := make(chan error, 1)
	go func() {
		for i := 0; i < count; i++ {
			op, _, p, err := fast.nextFrame(60 * time.Second)
			if err != nil {
				fastErr <- fmt.Errorf("fast reader after %d: %v", i, err)
				return
			}
			n, err := check("fast", p)
			if err == nil && (op != 2 || n != i) {
				err = fmt.Errorf("fast reader: message %d (op %d), want %d", n, op, i)
			}
			if err != nil {
				fastErr <- err
				return
			}
			fastGot.Add(1)
		}
		fastErr <- nil
	}()
	for i := 0; i < count; i++ {
		for int64(i)-fastGot.Load() > window {
			select {
			case err := <-fastErr:
				t.Fatalf("fast reader ended early: %v", err)
			default:
			}
			runtime.Gosched()
		}
		if err := svc.Broadcast(p, msg(i), lws.WriteBinary); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-fastErr; err != nil {
		t.Fatal(err)
	}

	if policy != lws.OverflowDrop {
		// The slow connection was closed: an unbroken prefix, then the close.
		for next := 0; ; next++ {
			op, _, p, err := slow.nextFrame(30 * time.Second)
			if err != nil {
				t.Fatalf("slow reader after %d messages: %v", next, err)
			}
			if op == 8 {
				if got := int(binary.BigEndian.Uint16(p)); got != code || string(p[2:]) != "send queue full" {
					t.Fatalf("close %d %q, want %d", got, p[2:], code)
				}
				if next == count {
					t.Fatalf("all %d messages reached the slow reader: the queue never overflowed", count)
				}
				t.Logf("slow reader: %d messages, then close %d", next, code)
				return
			}
			n, err := check("slow", p)
			if err != nil {
				t.Fatal(err)
			}
			if n != next {
				t.Fatalf("slow reader: message %d, want %d before the close", n, next)
			}
		}
	}

	// Drop: a Send that cannot fit is refused at once.
	dropped := slowConn.Dropped()
	if dropped == 0 {
		t.Fatalf("no message was dropped for the slow reader (queued %d)", slowConn.Queued())
	}
	if err := slowConn.Send(make([]byte, limit), lws.WriteBinary); !errors.Is(err, lws.ErrSendQueueFull) {
		t.Fatalf("Send to the full queue: %v, want ErrSendQueueFull", err)
	}
	dropped++
	// Now read everything: whole messages, increasing, and received plus
	// dropped is what was sent.
	received, last := 0, -1
	for received+int(dropped) < count+1 {
		op, _, p, err := slow.nextFrame(30 * time.Second)
		if err != nil {
			t.Fatalf("slow reader after %d messages (%d dropped): %v", received, dropped, err)
		}
		n, err := check("slow", p)
		if err != nil {
			t.Fatal(err)
		}
		if op != 2 || n <= last {
			t.Fatalf("slow reader: message %d after %d", n, last)
		}
		last = n
		received++
	}
	if got := slowConn.Dropped(); got != dropped {
		t.Fatalf("Dropped = %d, want %d", got, dropped)
	}
	if err := slowConn.Send([]byte("still open"), lws.WriteText); err != nil {
		t.Fatalf("Send after the queue drained: %v", err)
	}
	op, _, m, err := slow.nextFrame(30 * time.Second)
	if err != nil || op != 1 || string(m) != "still open" {
		t.Fatalf("after draining: op %d %q %v", op, m, err)
	}
	t.Logf("slow reader: %d received, %d dropped of %d", received, dropped, count+1)
}

// BenchmarkBroadcast1000 broadcasts 64-byte messages to 1,000 connections
// (two loops) and waits until every connection has read them; allocations
// are those of the whole process per broadcast.
func BenchmarkBroadcast1000(b *testing.B) {
	const conns, window = 1000, 512
	tr := newSendTracker()
	p := tr.protocol("b")
	svc := startService(b, lws.Config{Loops: 2, Protocols: []*lws.Protocol{p}})
	counts := make([]atomic.Int64, conns)
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		rc, err := dialPath(svc, "b", fmt.Sprintf("/%d", i), 0)
		if err != nil {
			b.Fatal(err)
		}
		defer rc.Close()
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for {
				_, _, p, err := rc.nextFrame(time.Minute)
				if err != nil || p[0] == endMarker {
					return
				}
				counts[i].Add(1)
			}
		}(i)
	}
	tr.wait(b, "connections", func() bool { return len(tr.open) == conns })
	minCount := func() int64 {
		m := counts[0].Load()
		for i := range counts {
			m = min(m, counts[i].Load())
		}
		return m
	}
	msg := make([]byte, 64)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)) * conns)
	b.ResetTimer()
	base := minCount()
	for i := 0; i < b.N; i++ {
		if i%64 == 0 {
			for int64(i)-(minCount()-base) > window {
				runtime.Gosched()
			}
		}
		if err := svc.Broadcast(p, msg, lws.WriteBinary); err != nil {
			b.Fatal(err)
		}
	}
	for minCount()-base < int64(b.N) {
		runtime.Gosched()
	}
	b.StopTimer()
	msg[0] = endMarker
	svc.Broadcast(p, msg, lws.WriteBinary)
	wg.Wait()
}

// TestBroadcastReachesClients: a service connects three client
// connections to itself on protocol p, so p has three server and three
// client connections. A Broadcast reaches all six (each side receives it
// from its peer, masked by the client side as RFC 6455 requires), and a
// Send on a client connection made before its handshake completed goes out
// once it has.
func TestBroadcastReachesClients(t *testing.T) {
	type rx struct {
		client bool
		msg    string
	}
	got := make(chan rx, 64)
	var p *lws.Protocol
	p = &lws.Protocol{
		Name:       "both",
		Reassemble: true,
		OnReceive:  func(c *lws.Conn, msg []byte) { got <- rx{c.IsClient(), string(msg)} },
		OnConnectionError: func(c *lws.Conn, err error) {
			t.Errorf("client connection failed: %v", err)
		},
	}
	tr := newSendTracker()
	established := tr.protocol("x").OnEstablished
	p.OnEstablished = func(c *lws.Conn) {
		if c.IsClient() {
			established(c) // counts client connections by their path
		}
	}
	svc := startService(t, lws.Config{Loops: 2, Protocols: []*lws.Protocol{p}})
	for i := 0; i < 3; i++ {
		c, err := svc.Connect(lws.ClientInfo{URL: fmt.Sprintf("ws://%s/c%d", svc.Addr(), i), Protocols: []string{"both"}})
		if err != nil {
			t.Fatal(err)
		}
		// Before the handshake: queued until the connection is established.
		if err := c.Send([]byte("early"), lws.WriteText); err != nil {
			t.Fatalf("Send before the handshake: %v", err)
		}
	}
	tr.wait(t, "client connections", func() bool { return len(tr.open) == 3 })
	collect := func(want string, n int) (clients, servers int) {
		for i := 0; i < n; i++ {
			select {
			case r := <-got:
				if r.msg != want {
					t.Fatalf("received %q, want %q", r.msg, want)
				}
				if r.client {
					clients++
				} else {
					servers++
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("only %d of %d %q messages arrived", i, n, want)
			}
		}
		return
	}
	if c, s := collect("early", 3); s != 3 || c != 0 {
		t.Fatalf("early sends: %d at servers, %d at clients", s, c)
	}
	if err := svc.Broadcast(p, []byte("to all"), lws.WriteText); err != nil {
		t.Fatal(err)
	}
	if c, s := collect("to all", 6); s != 3 || c != 3 {
		t.Fatalf("broadcast reached %d server and %d client connections' peers, want 3 and 3", s, c)
	}
	select {
	case r := <-got:
		t.Fatalf("extra message %v", r)
	default:
	}
}

// Broadcasting faster than a loop hands the messages out is bounded: with
// one loop stalled, Broadcast accepts about Limits.BroadcastBacklog bytes of
// messages and then returns ErrBroadcastBacklog; the refused message
// reaches no connection on any loop, the accepted ones reach every
// connection in order once the loop goes on, and broadcasting works
// again.
func TestBroadcastBacklogBounded(t *testing.T) {
	const limit, size, clients = 64 << 10, 8 << 10, 4
	var (
		mu    sync.Mutex
		conns []*lws.Conn
	)
	p := &lws.Protocol{Name: "bcast", OnEstablished: func(c *lws.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}}
	svc := startService(t, lws.Config{Loops: 2, Limits: lws.Limits{BroadcastBacklog: limit}, Protocols: []*lws.Protocol{p}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var ccs []*lws.ClientConn
	for range clients {
		cc, err := lws.Dial(ctx, "ws://"+svc.Addr().String()+"/", &lws.DialOptions{Protocols: []string{"bcast"}})
		if err != nil {
			t.Fatal(err)
		}
		defer cc.Close(lws.CloseNormal, "")
		ccs = append(ccs, cc)
	}
	waitCond(t, "every connection established", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(conns) == clients
	})

	// Stall the loop of one connection.
	release, stalled := make(chan struct{}), make(chan struct{})
	conns[0].Post(func() { close(stalled); <-release })
	<-stalled
	accepted := 0
	for ; ; accepted++ {
		err := svc.Broadcast(p, seqMessage(accepted, size), lws.WriteBinary)
		if errors.Is(err, lws.ErrBroadcastBacklog) {
			break
		}
		if err != nil {
			close(release)
			t.Fatal(err)
		}
		if accepted > 2*limit/size {
			close(release)
			t.Fatalf("%d broadcasts of %d bytes accepted with a stalled loop and a %d-byte limit", accepted, size, limit)
		}
	}
	close(release)
	if accepted < limit/size-1 {
		t.Fatalf("only %d broadcasts of %d bytes accepted before the %d-byte backlog was full", accepted, size, limit)
	}
	if got := svc.Stats().BroadcastsRefused; got != 1 {
		t.Errorf("Stats.BroadcastsRefused %d, want 1", got)
	}
	if err := svc.Broadcast(p, []byte("end"), lws.WriteText); err != nil {
		t.Fatalf("Broadcast once the loop went on: %v", err)
	}
	for i, cc := range ccs {
		for k := 0; k < accepted; k++ {
			_, msg, err := cc.ReadMessage(ctx)
			if err != nil {
				t.Fatalf("client %d, message %d: %v", i, k, err)
			}
			if err := checkSeqMessage(msg, k, size); err != nil {
				t.Fatalf("client %d: %v", i, err)
			}
		}
		if _, msg, err := cc.ReadMessage(ctx); err != nil || string(msg) != "end" {
			t.Fatalf("client %d: after the %d accepted messages: %q, %v (the refused one must not come)", i, accepted, msg, err)
		}
	}
}
