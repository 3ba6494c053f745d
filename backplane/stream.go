package backplane

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/logging"
	"github.com/nats-io/nats.go/jetstream"
)

// StreamOptions configure Backplane.Stream. The zero value (or nil) is
// usable; every zero field takes the default in its comment.
type StreamOptions struct {
	// MaxMsgs, MaxBytes and MaxAge bound the history NATS keeps for the
	// topic (defaults 100000 messages, 64 MiB, 24h): the oldest messages
	// go first, and a client whose position is older than what is left
	// is told it cannot be recovered. The last server to start with
	// different bounds sets them.
	MaxMsgs  int64
	MaxBytes int64
	MaxAge   time.Duration
	// Memory keeps the history in NATS's memory rather than in files: it
	// is then lost when NATS restarts (a new epoch).
	Memory bool
	// Replicas is the stream's replica count in a NATS cluster (default 1).
	Replicas int

	// BufferMsgs and BufferBytes bound this server's own messages that
	// the stream has not given back yet (defaults 65536 messages, 8 MiB):
	// they wait here while NATS is unreachable and are published in
	// order once it is back. Beyond either bound Publish refuses the
	// message with ErrBufferFull: no client gets it.
	BufferMsgs  int
	BufferBytes int

	// CacheMsgs and CacheBytes bound the latest messages this server
	// keeps in memory to recover clients without asking NATS (defaults
	// 4096 messages, 1 MiB); older gaps are read from the history. A
	// recovery from the cache queues all it sends at once: keep
	// CacheBytes well under the service's Limits.SendQueueSize, or a
	// client recovering that much is closed with 1013 (reader too slow).
	CacheMsgs  int
	CacheBytes int

	// LocalDelay is how long this server's own message may wait for the
	// stream before it is delivered to the local clients ahead of it
	// (default 1s); losing NATS switches to that at once.
	LocalDelay time.Duration

	// RecoverTimeout bounds how long a client's recovery may wait for
	// this server to reach the client's position or for NATS to answer
	// (default 10s); then the client is told it cannot be recovered. It
	// also bounds a recovery from the history as a whole, the client's
	// reading included: past it the client is closed with 1013 and
	// recovers the rest when it reconnects.
	RecoverTimeout time.Duration

	// HoldTimeout bounds how long PublishFrom holds a client's messages
	// behind what the client had read and this server has not (default
	// 1 minute): longer means the server that delivered it is gone.
	HoldTimeout time.Duration

	// Binary sends messages to clients as binary messages (default text).
	Binary bool
}

func (o StreamOptions) withDefaults() StreamOptions {
	orDefault(&o.MaxMsgs, 100000)
	orDefault(&o.MaxBytes, 64<<20)
	orDefault(&o.MaxAge, 24*time.Hour)
	orDefault(&o.Replicas, 1)
	orDefault(&o.BufferMsgs, 65536)
	orDefault(&o.BufferBytes, 8<<20)
	orDefault(&o.CacheMsgs, 4096)
	orDefault(&o.CacheBytes, 1<<20)
	orDefault(&o.LocalDelay, time.Second)
	orDefault(&o.RecoverTimeout, 10*time.Second)
	orDefault(&o.HoldTimeout, time.Minute)
	return o
}

// orDefault sets *p to def when it is unset (zero or negative).
func orDefault[T ~int | ~int64](p *T, def T) {
	if *p <= 0 {
		*p = def
	}
}

// ErrBufferFull is returned by Stream.Publish when the buffer of
// messages waiting for the stream is full (NATS unreachable for long):
// the message is refused, no client gets it.
var ErrBufferFull = errors.New("backplane: stream buffer full: message refused")

// ErrStreamClosed is returned by Stream.Publish after Backplane.Close.
var ErrStreamClosed = errors.New("backplane: stream closed")

// Stream is a topic of the group kept in a NATS JetStream stream: every
// message any server publishes gets the stream's sequence as its offset
// and reaches the clients of every server exactly once, in the order of
// the stream, including what was published while a server was cut off
// from NATS; a client that reconnects with its Position gets what it
// missed (see the package documentation).
type Stream struct {
	b            *Backplane
	o            StreamOptions
	js           jetstream.JetStream
	name         string // JetStream stream name
	subject      string // this server's subject in the stream
	filter       string // the stream's subjects
	consumerName string
	mode         lws.WriteMode
	stats        streamCounters

	wake    chan struct{} // the publisher has something to do
	acks    chan pubAck   // publishes waiting for their acknowledgement
	done    chan struct{} // closed by close
	workers sync.WaitGroup

	mu sync.Mutex
	// What this server has read of the stream.
	epoch      string            // the stream's epoch; "" before NATS answered once
	head       uint64            // offset of the last message read
	started    bool              // the consumer has started in this process
	configured bool              // ensure has compared the stream's limits with ours
	high       map[string]uint64 // per sender, the highest number read
	cache      []*entry          // the latest messages read, every one since cacheFrom
	cacheLen   int               // bytes in cache
	// cacheFrom is the first offset the cache is whole from: it holds
	// every deliverable message in [cacheFrom, head].
	cacheFrom uint64
	iter      jetstream.MessagesContext // the consumer's, stopped by close
	// online is canceled when NATS is lost (made anew when it is back)
	// and at close: the requests made under it (setting the consumer up,
	// asking for our last stored message) end then rather than at their
	// timeout, since their answers are lost with the connection.
	online    context.Context
	goOffline context.CancelFunc

	// This server's own messages.
	ownSeq         uint64        // number of the last one published
	pending        []*pendingMsg // published, not read back from the stream yet
	pendingLen     int           // bytes in pending
	ahead          uint64        // the last one delivered locally ahead of the stream
	ownRead        uint64        // the last one read back from the stream
	immediate      bool          // deliver own messages at once, ahead of the stream
	delayArmed     bool
	delayTimer     *time.Timer
	nextSend       uint64 // number of the next one to hand to NATS
	inflight       int    // handed to NATS, acknowledgement not yet known
	needSync       bool   // ask the stream what it has of ours before sending more
	retryArmed     bool
	closing        bool
	members        map[*lws.Conn]*member
	waiting        map[*member]struct{} // recoveries waiting for this server
	holding        map[*member]struct{} // members with messages held (PublishFrom)
	holdCheckArmed bool
	recoverings    sync.WaitGroup
}

// entry is one message as this server delivers it.
type entry struct {
	offset uint64 // the stream's sequence; 0: not sequenced yet (own, ahead)
	sender string
	seq    uint64
	key    string
	data   []byte
}

func (e *entry) size() int { return len(e.key) + len(e.data) + 64 }

// pendingMsg is an own message not yet read back from the stream.
type pendingMsg struct {
	entry
	body  []byte // the stream message's payload
	at    time.Time
	acked bool
}

type pubAck struct {
	seq uint64
	f   jetstream.PubAckFuture
}

type streamCounters struct {
	published, publishErrors, bufferFull, ahead           atomic.Uint64
	received, duplicates, missed, malformed, epochChanges atomic.Uint64
	recovered, fromHistory, notRecovered, interrupted     atomic.Uint64
	slowClosed, sent, held, heldTooLong                   atomic.Uint64
}

// StreamStats count a Stream's messages since it was made.
type StreamStats struct {
	Published     uint64 // own messages the stream acknowledged
	Buffered      int    // own messages not read back from the stream yet
	BufferFull    uint64 // own messages refused by a full buffer
	PublishErrors uint64 // publishes that failed and were sent again
	Ahead         uint64 // own messages delivered locally ahead of the stream
	Received      uint64 // messages read from the stream and delivered
	Duplicates    uint64 // messages read again and skipped
	Missed        uint64 // messages the history lost before this server read them
	Malformed     uint64 // stream messages without our envelope, skipped
	EpochChanges  uint64 // the stream was recreated or lost its history
	Recovered     uint64 // clients whose recovery was granted
	FromHistory   uint64 // of which read (partly) from the stream's history
	NotRecovered  uint64 // clients told their position cannot be recovered
	Interrupted   uint64 // recoveries cut short (the client was closed with 1013)
	SlowClosed    uint64 // clients closed with 1013 for reading too slowly
	Held          uint64 // client messages held behind what the client had read (PublishFrom)
	HeldTooLong   uint64 // of which published before that was read (HoldTimeout passed)
	Sent          uint64 // messages handed to clients
}

// Stream returns the durable topic name of the group (name may be any
// string), creating its JetStream stream if needed; opts may be nil. It
// returns at once, even when NATS is unreachable: the stream is created,
// and reading it starts, once NATS answers. One Stream per name per
// Backplane.
func (b *Backplane) Stream(name string, opts *StreamOptions) (*Stream, error) {
	var o StreamOptions
	if opts != nil {
		o = *opts
	}
	o = o.withDefaults()
	js, err := jetstream.New(b.nc, jetstream.WithPublishAsyncMaxPending(publishWindow), jetstream.WithPublishAsyncTimeout(5*time.Second))
	if err != nil {
		return nil, err
	}
	tok := escapeToken(name)
	s := &Stream{
		b:            b,
		o:            o,
		js:           js,
		name:         b.prefix + "~" + tok,
		subject:      b.prefix + ".stream." + tok + "." + b.sender,
		filter:       b.prefix + ".stream." + tok + ".*",
		consumerName: consumerName(b.id),
		mode:         lws.WriteText,
		wake:         make(chan struct{}, 1),
		acks:         make(chan pubAck, publishWindow),
		done:         make(chan struct{}),
		high:         map[string]uint64{},
		cacheFrom:    1,
		needSync:     true,
		nextSend:     1,
		members:      map[*lws.Conn]*member{},
		waiting:      map[*member]struct{}{},
		holding:      map[*member]struct{}{},
	}
	if o.Binary {
		s.mode = lws.WriteBinary
	}
	s.delayTimer = time.AfterFunc(time.Hour, s.checkDelay)
	s.delayTimer.Stop()
	s.online, s.goOffline = context.WithCancel(context.Background())
	b.mu.Lock()
	for _, other := range b.streams {
		if other.name == s.name {
			b.mu.Unlock()
			return nil, errors.New("backplane: stream " + strconv.Quote(name) + " already open")
		}
	}
	b.streams = append(b.streams, s)
	b.mu.Unlock()
	// Under the lock, for a reconnect that would come now: its
	// reconnected waits, then finds the stream offline.
	s.mu.Lock()
	if !b.nc.IsConnected() {
		s.immediate = true
		s.goOffline()
	}
	s.mu.Unlock()
	s.workers.Add(3)
	go s.consumeLoop()
	go s.publishLoop()
	go s.ackLoop()
	return s, nil
}

// publishWindow is how many own messages may be on their way to the
// stream, acknowledgement not yet known.
const publishWindow = 256

// consumerName is the durable consumer of the server instance: a
// restarted server with the same Options.Instance resumes where it
// stopped.
func consumerName(instance string) string {
	n := escapeToken(instance)
	if len(n) > 200 {
		h := sha256.Sum256([]byte(instance))
		n = hex.EncodeToString(h[:16])
	}
	return "lws~" + n
}

// Publish sends data, labelled with key (a sub-channel: clients are
// served one key each), to the clients of every server of the group,
// this one included. It does not wait for NATS: the message waits in
// the buffer until the stream has it. While NATS is reachable the local
// clients get it from the stream, in the stream's order like every
// other server's clients; while it is not (or slower than LocalDelay)
// they get it at once. A full buffer refuses it with ErrBufferFull: then
// no client gets it. data may be reused once Publish returns. A message
// from a client is published with PublishFrom.
func (s *Stream) Publish(key string, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return ErrStreamClosed
	}
	return s.publish(key, data)
}

func (s *Stream) publish(key string, data []byte) error {
	p := &pendingMsg{entry: entry{sender: s.b.sender, seq: s.ownSeq + 1, key: key, data: append([]byte(nil), data...)}, at: time.Now()}
	if len(s.pending) >= s.o.BufferMsgs || s.pendingLen+p.size() > s.o.BufferBytes {
		s.stats.bufferFull.Add(1)
		return ErrBufferFull
	}
	s.ownSeq++
	p.body = streamEnvelope(p.seq, key, data)
	s.pending = append(s.pending, p)
	s.pendingLen += p.size()
	if s.immediate {
		s.deliverAhead(&p.entry)
	} else if !s.delayArmed {
		s.delayArmed = true
		s.delayTimer.Reset(s.o.LocalDelay)
	}
	s.signal()
	return nil
}

// Stats returns the counters.
func (s *Stream) Stats() StreamStats {
	s.mu.Lock()
	buffered := len(s.pending)
	s.mu.Unlock()
	return StreamStats{
		Published:     s.stats.published.Load(),
		Buffered:      buffered,
		BufferFull:    s.stats.bufferFull.Load(),
		PublishErrors: s.stats.publishErrors.Load(),
		Ahead:         s.stats.ahead.Load(),
		Received:      s.stats.received.Load(),
		Duplicates:    s.stats.duplicates.Load(),
		Missed:        s.stats.missed.Load(),
		Malformed:     s.stats.malformed.Load(),
		EpochChanges:  s.stats.epochChanges.Load(),
		Recovered:     s.stats.recovered.Load(),
		FromHistory:   s.stats.fromHistory.Load(),
		NotRecovered:  s.stats.notRecovered.Load(),
		Interrupted:   s.stats.interrupted.Load(),
		SlowClosed:    s.stats.slowClosed.Load(),
		Held:          s.stats.held.Load(),
		HeldTooLong:   s.stats.heldTooLong.Load(),
		Sent:          s.stats.sent.Load(),
	}
}

// Position is this server's position in the stream: what a client that
// joins now has read by definition.
func (s *Stream) Position() Position {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.position()
}

func (s *Stream) position() Position {
	p := Position{Epoch: s.epoch, Offset: s.head}
	if s.ahead > s.ownRead {
		p.Ahead = []Seen{{Sender: s.b.sender, Seq: s.ahead}}
	}
	return p
}

// Name is the JetStream stream's name.
func (s *Stream) Name() string { return s.name }

// toImmediate makes own messages go to local clients at once: those
// waiting for the stream first, in order, then each as it is published.
func (s *Stream) toImmediate(why string) {
	if s.immediate {
		return
	}
	s.immediate = true
	logging.Noticef("backplane %s: stream %s: %s: local delivery ahead of the stream", s.b.id, s.name, why)
	for _, p := range s.pending {
		if p.seq > s.ahead {
			s.deliverAhead(&p.entry)
		}
	}
}

// toStream makes own messages wait for the stream again, once every one
// delivered ahead of it is back.
func (s *Stream) toStream() {
	if s.immediate && len(s.pending) == 0 && s.b.nc.IsConnected() && s.started {
		s.immediate = false
		logging.Noticef("backplane %s: stream %s: caught up: local delivery through the stream", s.b.id, s.name)
	}
}

// checkDelay runs LocalDelay after an own message was published while
// delivering through the stream.
func (s *Stream) checkDelay() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delayArmed = false
	if s.immediate || len(s.pending) == 0 || s.closing {
		return
	}
	if wait := s.o.LocalDelay - time.Since(s.pending[0].at); wait > 0 {
		s.delayArmed = true
		s.delayTimer.Reset(wait)
		return
	}
	s.toImmediate("the stream is slower than " + s.o.LocalDelay.String())
}

// disconnected and reconnected follow the NATS connection.
func (s *Stream) disconnected() {
	s.mu.Lock()
	s.toImmediate("NATS disconnected")
	s.needSync = true
	s.goOffline()
	s.mu.Unlock()
}

func (s *Stream) reconnected() {
	s.mu.Lock()
	s.needSync = true
	if s.online.Err() != nil && !s.closing {
		s.online, s.goOffline = context.WithCancel(context.Background())
	}
	s.toStream()
	s.mu.Unlock()
	s.signal()
}

// onlineContext is the context of requests to NATS: canceled when NATS
// is lost (already, while it is away).
func (s *Stream) onlineContext() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.online
}

// close stops the stream: it waits up to timeout for the stream to
// acknowledge the buffered messages, then stops reading and publishing.
func (s *Stream) close(timeout time.Duration) {
	s.mu.Lock()
	again := s.closing
	s.closing = true
	s.mu.Unlock()
	if again {
		return
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) && s.b.nc.IsConnected() && !s.allAcked() {
		time.Sleep(5 * time.Millisecond)
	}
	s.mu.Lock()
	unacked := 0
	for _, p := range s.pending {
		if !p.acked {
			unacked++
		}
	}
	it := s.iter
	s.delayTimer.Stop()
	s.mu.Unlock()
	if unacked > 0 {
		logging.Warnf("backplane %s: stream %s closed with %d messages the stream never acknowledged: lost to the other servers", s.b.id, s.name, unacked)
	}
	close(s.done)
	s.mu.Lock()
	s.goOffline() // the workers' requests end: their answers are not wanted
	s.mu.Unlock()
	if it != nil {
		it.Stop()
	}
	s.workers.Wait()
	s.recoverings.Wait()
}

func (s *Stream) allAcked() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.pending {
		if !p.acked {
			return false
		}
	}
	return true
}

// signal wakes the publisher.
func (s *Stream) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// The payload of a stream message: the sender's number for it and the
// key behind its length, then the data. The sender is the subject's
// last token.
//
//	[uvarint seq] [uvarint len(key)] key data
func streamEnvelope(seq uint64, key string, data []byte) []byte {
	buf := make([]byte, 0, 2*binary.MaxVarintLen64+len(key)+len(data))
	buf = binary.AppendUvarint(buf, seq)
	buf = binary.AppendUvarint(buf, uint64(len(key)))
	buf = append(buf, key...)
	return append(buf, data...)
}

func openStreamEnvelope(m []byte) (seq uint64, key string, data []byte, ok bool) {
	seq, w := binary.Uvarint(m)
	if w <= 0 || seq == 0 {
		return 0, "", nil, false
	}
	m = m[w:]
	n, w := binary.Uvarint(m)
	if w <= 0 || n > uint64(len(m)-w) {
		return 0, "", nil, false
	}
	return seq, string(m[w : w+int(n)]), m[w+int(n):], true
}

// senderOf is the last token of a stream subject.
func senderOf(subject string) string {
	for i := len(subject) - 1; i >= 0; i-- {
		if subject[i] == '.' {
			return subject[i+1:]
		}
	}
	return subject
}

func epochOf(created time.Time) string {
	return strconv.FormatInt(created.UnixNano(), 36)
}
