package backplane

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Recovering a client whose position is older than this server's cache:
// the stream's history is read from the client's position up to where
// the cache starts (through an ordered consumer of its own), then the
// cache, then the client is live. The history must still hold every
// message after the position (else the client is refused before anything
// is sent); if messages disappear from it meanwhile, or it cannot be read
// within RecoverTimeout, the client is closed with 1013 and may reconnect
// from the position of the last message it got.

var errMemberGone = errors.New("client gone")

func (s *Stream) recoverFromHistory(m *member) {
	defer s.recoverings.Done()
	ctx, cancel := context.WithTimeout(context.Background(), s.o.RecoverTimeout)
	defer cancel()
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-ctx.Done():
		}
	}()

	st, err := s.js.Stream(ctx, s.name)
	s.mu.Lock()
	if m.state != recoveringState {
		s.mu.Unlock()
		return
	}
	var info *jetstream.StreamInfo
	if err == nil {
		info = st.CachedInfo()
	}
	switch {
	case err != nil:
		s.refuse(m, "history unavailable: "+err.Error())
	case epochOf(info.Created) != m.since.Epoch:
		s.refuse(m, "epoch changed")
	case info.State.FirstSeq > m.since.Offset+1:
		s.refuse(m, "history no longer covers the gap")
	default:
		s.stats.recovered.Add(1)
		s.stats.fromHistory.Add(1)
		s.status(m, "!recovered")
	}
	ok := m.state == recoveringState
	s.mu.Unlock()
	if !ok {
		return
	}

	for {
		s.mu.Lock()
		switch {
		case m.state != recoveringState:
			s.mu.Unlock()
			return
		case s.epoch != m.since.Epoch:
			s.interrupt(m, "epoch changed during recovery")
			s.mu.Unlock()
			return
		case m.pos.Offset+1 >= s.cacheFrom:
			s.catchUp(m)
			s.mu.Unlock()
			return
		}
		to := s.cacheFrom - 1
		s.mu.Unlock()
		if err := s.readHistory(ctx, m, to); err != nil {
			s.mu.Lock()
			if m.state == recoveringState {
				s.interrupt(m, "recovery interrupted: "+err.Error())
			}
			s.mu.Unlock()
			return
		}
	}
}

// readHistory sends m the messages of the history after its position up
// to offset to.
func (s *Stream) readHistory(ctx context.Context, m *member, to uint64) error {
	want := m.pos.Offset + 1
	cons, err := s.js.OrderedConsumer(ctx, s.name, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   want,
	})
	if err != nil {
		return err
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(256))
	if err != nil {
		return err
	}
	defer it.Stop()
	high := map[string]uint64{}
	for ; want <= to; want++ {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			return err
		}
		md, err := msg.Metadata()
		if err != nil {
			return err
		}
		if off := md.Sequence.Stream; off != want {
			return fmt.Errorf("messages %d to %d left the history", want, off-1)
		}
		seq, key, data, ok := openStreamEnvelope(msg.Data())
		sender := senderOf(msg.Subject())
		s.mu.Lock()
		if m.state != recoveringState {
			s.mu.Unlock()
			return errMemberGone
		}
		if !ok || seq <= high[sender] {
			m.pos.Offset = want
		} else {
			high[sender] = seq
			if !s.offer(m, &entry{offset: want, sender: sender, seq: seq, key: key, data: data}) {
				s.mu.Unlock()
				return errMemberGone
			}
		}
		s.mu.Unlock()
		for m.c.Queued() > recoverQueued {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			time.Sleep(time.Millisecond)
		}
	}
	return nil
}

// interrupt ends a recovery that cannot complete: m is closed with 1013.
func (s *Stream) interrupt(m *member, why string) {
	s.stats.interrupted.Add(1)
	s.remove(m)
	s.closeMember(m, why)
}
