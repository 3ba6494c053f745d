package backplane

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"time"

	"github.com/lws-go/lws/logging"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Publishing own messages. Each server publishes on a subject of its own
// in the stream, in order, up to publishWindow at a time, each with a
// Nats-Msg-Id. Whenever order could have been broken (a publish failed,
// NATS reconnected, the stream was recreated) the publisher first waits
// for every publish in flight to settle, then asks the stream for the last
// message on its subject and goes on from the one after it: every message
// is stored once, in order, however long the outage, without depending on
// the stream's duplicate window.

func (s *Stream) publishLoop() {
	defer s.workers.Done()
	for {
		select {
		case <-s.done:
			return
		case <-s.wake:
		}
		s.publishSome()
	}
}

// publishSome hands NATS what it can of the buffer.
func (s *Stream) publishSome() {
	if s.onlineContext().Err() != nil {
		return // reconnected wakes us
	}
	s.mu.Lock()
	if s.needSync {
		if s.inflight > 0 {
			s.mu.Unlock()
			return // ackLoop wakes us when they have settled
		}
		s.mu.Unlock()
		last, err := s.lastStored()
		s.mu.Lock()
		if err != nil {
			s.retryLater()
			s.mu.Unlock()
			logging.Infof("backplane %s: stream %s: asking for our last stored message: %v", s.b.id, s.name, err)
			return
		}
		s.needSync = false
		s.nextSend = last + 1
		for _, p := range s.pending {
			if p.seq <= last && !p.acked {
				p.acked = true
				s.stats.published.Add(1)
			}
		}
	}
	if len(s.pending) > 0 && s.nextSend < s.pending[0].seq {
		s.nextSend = s.pending[0].seq
	}
	i := sort.Search(len(s.pending), func(i int) bool { return s.pending[i].seq >= s.nextSend })
	var batch []*pendingMsg
	for ; i < len(s.pending) && s.inflight+len(batch) < publishWindow; i++ {
		batch = append(batch, s.pending[i])
	}
	if len(batch) == 0 {
		s.mu.Unlock()
		return
	}
	s.nextSend = batch[len(batch)-1].seq + 1
	s.inflight += len(batch)
	s.mu.Unlock()

	for n, p := range batch {
		m := &nats.Msg{Subject: s.subject, Header: nats.Header{}, Data: p.body}
		m.Header.Set(jetstream.MsgIDHeader, s.b.sender+"."+strconv.FormatUint(p.seq, 10))
		f, err := s.js.PublishMsgAsync(m)
		if err != nil {
			s.stats.publishErrors.Add(1)
			s.mu.Lock()
			s.inflight -= len(batch) - n
			s.needSync = true
			s.retryLater()
			s.mu.Unlock()
			return
		}
		s.acks <- pubAck{seq: p.seq, f: f}
	}
	s.signal() // more may have been published meanwhile
}

// retryLater wakes the publisher after a pause.
func (s *Stream) retryLater() {
	if s.retryArmed || s.closing && len(s.pending) == 0 {
		return
	}
	s.retryArmed = true
	time.AfterFunc(s.b.reconnectWait, func() {
		s.mu.Lock()
		s.retryArmed = false
		s.mu.Unlock()
		s.signal()
	})
}

// ackLoop follows the acknowledgements of the publishes in flight, in
// order.
func (s *Stream) ackLoop() {
	defer s.workers.Done()
	for {
		var a pubAck
		select {
		case <-s.done:
			return
		case a = <-s.acks:
		}
		var err error
		select {
		case <-a.f.Ok():
		case err = <-a.f.Err():
		case <-s.done:
			return
		}
		s.mu.Lock()
		s.inflight--
		if err != nil {
			s.stats.publishErrors.Add(1)
			if !s.needSync {
				logging.Infof("backplane %s: stream %s: publish: %v: sending again from the last stored message", s.b.id, s.name, err)
			}
			s.needSync = true
		} else {
			for _, p := range s.pending {
				if p.seq == a.seq {
					if !p.acked {
						p.acked = true
						s.stats.published.Add(1)
					}
					break
				}
				if p.seq > a.seq {
					break
				}
			}
		}
		settled := s.inflight == 0 && s.needSync
		if settled {
			s.retryLater()
		}
		s.mu.Unlock()
		if !settled {
			s.signal() // room in the window for what waits
		}
	}
}

// lastStored is the number of this server's last message in the stream
// (0: none), creating the stream if it is gone.
func (s *Stream) lastStored() (uint64, error) {
	ctx, cancel := context.WithTimeout(s.onlineContext(), 5*time.Second)
	defer cancel()
	st, err := s.js.Stream(ctx, s.name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		st, err = s.ensure(ctx)
	}
	if err != nil {
		return 0, err
	}
	m, err := st.GetLastMsgForSubject(ctx, s.subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	seq, _, _, ok := openStreamEnvelope(m.Data)
	if !ok {
		return 0, errors.New("our last message in the stream is malformed")
	}
	return seq, nil
}
