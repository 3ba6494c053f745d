package backplane

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/lws-go/lws/logging"
	"github.com/nats-io/nats.go/jetstream"
)

// Reading the stream. Each server reads the whole stream through its own
// durable consumer (named after Options.Instance), acknowledging what it
// has read every ackEvery (AckAll): the acknowledged sequence is where a
// restarted server resumes, re-reading at most what came in its last
// ackEvery, which positions make harmless. The consumer is recreated from
// the last offset read whenever its delivery has a hole (a reconnect lost
// messages in flight), its heartbeats stop, or it is gone; so this server
// reads every message once, in order, and catches up after an outage.

// consumerHeartbeat is the consumer's idle heartbeat: two missed ones
// recreate it.
const consumerHeartbeat = 2 * time.Second

// ackEvery is how often the consumer acknowledges the last message read.
const ackEvery = 200 * time.Millisecond

var errDeliveryHole = errors.New("consumer delivery skipped a message")

func (s *Stream) consumeLoop() {
	defer s.workers.Done()
	var lastErr string
	for {
		// Requests made while NATS is away wait for it and can be lost
		// with it: start only once connected.
		for s.onlineContext().Err() != nil {
			select {
			case <-s.done:
				return
			case <-time.After(s.b.reconnectWait):
			}
		}
		err := s.consumeOnce()
		select {
		case <-s.done:
			return
		default:
		}
		if msg := err.Error(); msg != lastErr {
			lastErr = msg
			logging.Warnf("backplane %s: stream %s: reading: %v (retrying every %v)", s.b.id, s.name, err, s.b.reconnectWait)
		}
		select {
		case <-s.done:
			return
		case <-time.After(s.b.reconnectWait):
		}
	}
}

// ensure returns the stream, creating it if needed; the first time it
// also sets the stream's limits to this server's (the last server to
// start with different limits sets them). The stream is only updated
// when the limits differ.
func (s *Stream) ensure(ctx context.Context) (jetstream.Stream, error) {
	storage := jetstream.FileStorage
	if s.o.Memory {
		storage = jetstream.MemoryStorage
	}
	cfg := jetstream.StreamConfig{
		Name:        s.name,
		Subjects:    []string{s.filter},
		MaxMsgs:     s.o.MaxMsgs,
		MaxBytes:    s.o.MaxBytes,
		MaxAge:      s.o.MaxAge,
		Storage:     storage,
		Replicas:    s.o.Replicas,
		Discard:     jetstream.DiscardOld,
		AllowDirect: true,
	}
	st, err := s.js.Stream(ctx, s.name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = s.js.CreateStream(ctx, cfg)
		if err == nil || errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			st, err = s.js.Stream(ctx, s.name) // the epoch as every server reads it
		}
	}
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	configured := s.configured
	s.configured = true
	s.mu.Unlock()
	if c := st.CachedInfo().Config; !configured && (c.MaxMsgs != cfg.MaxMsgs || c.MaxBytes != cfg.MaxBytes || c.MaxAge != cfg.MaxAge || c.Replicas != cfg.Replicas) {
		logging.Noticef("backplane %s: stream %s: setting its limits to %d messages, %d bytes, %v, %d replicas", s.b.id, s.name, cfg.MaxMsgs, cfg.MaxBytes, cfg.MaxAge, cfg.Replicas)
		if _, err := s.js.UpdateStream(ctx, cfg); err != nil {
			return nil, err
		}
		// The epoch is read from the stream's info as every other
		// server reads it, not from the update's reply, whose creation
		// time was seen to differ from it.
		return s.js.Stream(ctx, s.name)
	}
	return st, nil
}

// consumeOnce (re)creates the consumer from the last offset read and
// reads until something goes wrong.
func (s *Stream) consumeOnce() error {
	// Losing NATS ends the requests below at once (onlineContext).
	ctx, cancel := context.WithTimeout(s.onlineContext(), 10*time.Second)
	defer cancel()
	st, err := s.ensure(ctx)
	if err != nil {
		return err
	}
	info := st.CachedInfo()
	epoch := epochOf(info.Created)

	s.mu.Lock()
	if s.epoch != epoch {
		known := s.epoch != ""
		s.epoch = epoch
		if known {
			s.newEpoch()
		} else {
			s.learnEpoch()
		}
	}
	start := s.head + 1
	first := !s.started
	s.mu.Unlock()

	if first {
		// Resume where a previous run of this instance stopped, or start
		// with what is published from now on.
		start = info.State.LastSeq + 1
		if ci, err := st.Consumer(ctx, s.consumerName); err == nil {
			start = ci.CachedInfo().AckFloor.Stream + 1
		}
		s.mu.Lock()
		s.head, s.cacheFrom, s.started = start-1, start, true
		// Clients that joined before the start was known joined here
		// (learnEpoch has given them the epoch by now).
		for _, m := range s.members {
			if m.state == liveState && m.pos.Epoch == s.epoch {
				m.pos.Offset = max(m.pos.Offset, s.head)
			}
		}
		s.toStream()
		s.checkWaiting()
		s.mu.Unlock()
	}

	if err := st.DeleteConsumer(ctx, s.consumerName); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("deleting consumer: %w", err)
	}
	cons, err := st.CreateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:           s.consumerName,
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       start,
		AckPolicy:         jetstream.AckAllPolicy,
		AckWait:           time.Minute, // a redelivery is skipped (read already)
		MaxAckPending:     -1,
		InactiveThreshold: s.o.MaxAge,
	})
	if err != nil {
		return fmt.Errorf("creating consumer: %w", err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(512), jetstream.PullHeartbeat(consumerHeartbeat), jetstream.WithMessagesErrOnMissingHeartbeat(true))
	if err != nil {
		return err
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		it.Stop()
		return ErrStreamClosed
	}
	s.iter = it
	s.mu.Unlock()
	defer it.Stop()
	acks := startAcking()
	defer acks.stop()

	for {
		msg, err := it.Next()
		if err != nil {
			return err
		}
		md, err := msg.Metadata()
		if err != nil {
			return err
		}
		if md.Sequence.Consumer != acks.delivered+1 {
			return errDeliveryHole
		}
		acks.delivered = md.Sequence.Consumer
		s.read(md.Sequence.Stream, msg.Subject(), msg.Data()) // skips a redelivery: read already
		acks.read(msg)
	}
}

// acker acknowledges the last message read every ackEvery, and once more
// when stopped.
type acker struct {
	delivered uint64 // consumer sequence of the last delivery (reader only)
	mu        sync.Mutex
	last      jetstream.Msg // read, not acknowledged yet
	done      chan struct{}
	stopped   chan struct{}
}

func startAcking() *acker {
	a := &acker{done: make(chan struct{}), stopped: make(chan struct{})}
	go func() {
		defer close(a.stopped)
		t := time.NewTicker(ackEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				a.flush()
			case <-a.done:
				a.flush()
				return
			}
		}
	}()
	return a
}

func (a *acker) read(m jetstream.Msg) {
	a.mu.Lock()
	a.last = m
	a.mu.Unlock()
}

func (a *acker) flush() {
	a.mu.Lock()
	m := a.last
	a.last = nil
	a.mu.Unlock()
	if m != nil {
		_ = m.Ack() // AckAll: every message up to m; a lost ack is re-read after a restart
	}
}

func (a *acker) stop() {
	close(a.done)
	<-a.stopped
}

// newEpoch starts over in a new stream: the old one was deleted or lost
// its storage. Clients are told (a gap); own messages not read back are
// published again into the new stream.
// learnEpoch gives the stream's epoch, now known for the first time, to
// the live members that joined before it was: the positions their
// messages carry from now on name it, so they can recover with them.
func (s *Stream) learnEpoch() {
	for _, m := range s.members {
		if m.state == liveState && m.pos.Epoch == "" {
			m.pos.Epoch = s.epoch
		}
	}
}

func (s *Stream) newEpoch() {
	s.stats.epochChanges.Add(1)
	logging.Warnf("backplane %s: stream %s was recreated: a new epoch, its history is lost", s.b.id, s.name)
	s.head, s.cache, s.cacheLen, s.cacheFrom = 0, nil, 0, 1
	s.needSync = true
	for _, p := range s.pending {
		p.acked = false
	}
	s.gap("the stream was recreated")
	s.checkWaiting()
}

// read takes one message of the stream, in order.
func (s *Stream) read(offset uint64, subject string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if offset <= s.head {
		return // read again after a consumer reset
	}
	if offset > s.head+1 {
		n := offset - s.head - 1
		s.stats.missed.Add(n)
		logging.Warnf("backplane %s: stream %s: %d messages were gone from the history before this server read them", s.b.id, s.name, n)
		s.head, s.cache, s.cacheLen, s.cacheFrom = offset-1, nil, 0, offset
		s.gap(fmt.Sprintf("%d messages lost", n))
	}
	s.head = offset
	seq, key, data, ok := openStreamEnvelope(body)
	if !ok {
		s.stats.malformed.Add(1)
		return
	}
	sender := senderOf(subject)
	if seq <= s.high[sender] {
		s.stats.duplicates.Add(1)
		return
	}
	s.high[sender] = seq
	s.stats.received.Add(1)
	e := &entry{offset: offset, sender: sender, seq: seq, key: key, data: append([]byte(nil), data...)}
	s.remember(e)
	if sender == s.b.sender {
		s.readBack(seq)
	}
	s.deliver(e)
	s.checkWaiting()
	s.releaseHeld()
}

// remember puts e in the cache, dropping the oldest beyond its bounds.
func (s *Stream) remember(e *entry) {
	s.cache = append(s.cache, e)
	s.cacheLen += e.size()
	drop := 0
	for len(s.cache)-drop > s.o.CacheMsgs || s.cacheLen > s.o.CacheBytes && len(s.cache)-drop > 1 {
		s.cacheLen -= s.cache[drop].size()
		s.cacheFrom = s.cache[drop].offset + 1
		s.cache[drop] = nil
		drop++
	}
	if drop > 0 {
		s.cache = s.cache[drop:]
	}
}

// readBack retires own messages up to seq: the stream has them.
func (s *Stream) readBack(seq uint64) {
	n := 0
	for n < len(s.pending) && s.pending[n].seq <= seq {
		if !s.pending[n].acked {
			s.pending[n].acked = true
			s.stats.published.Add(1)
		}
		s.pendingLen -= s.pending[n].size()
		s.pending[n] = nil
		n++
	}
	s.pending = s.pending[n:]
	s.ownRead = seq
	s.toStream()
}
