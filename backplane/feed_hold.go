package backplane

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Held client messages (PublishFrom) wait for this server to read what
// the client had read ahead of the stream. Reading it ends the wait
// (Position.advance drops the sender from the client's Ahead), but not
// when this server never will: the history lost it before this server
// read it (a gap). So while messages are held, every holdCheckEvery the
// stream is asked for the last message of each sender a held client
// waits for: once the stream holds the awaited message at an offset
// this server has passed, it is read or lost to this server, and the
// wait for that sender ends.

const holdCheckEvery = 500 * time.Millisecond

func (s *Stream) armHoldCheck() {
	if s.holdCheckArmed || s.closing {
		return
	}
	s.holdCheckArmed = true
	time.AfterFunc(holdCheckEvery, s.checkHolds)
}

// checkHolds ends the waits the stream shows are over.
func (s *Stream) checkHolds() {
	s.mu.Lock()
	s.holdCheckArmed = false
	awaited := map[string]uint64{} // sender -> the highest number awaited
	for m := range s.holding {
		for _, a := range m.pos.Ahead {
			if a.Sender != s.b.sender && a.Seq > awaited[a.Sender] {
				awaited[a.Sender] = a.Seq
			}
		}
	}
	s.mu.Unlock()
	if len(awaited) == 0 {
		return
	}
	stored := map[string]storedLast{}
	ctx, cancel := context.WithTimeout(context.Background(), holdCheckEvery)
	defer cancel()
	if st, err := s.js.Stream(ctx, s.name); err == nil {
		for sender := range awaited {
			m, err := st.GetLastMsgForSubject(ctx, strings.TrimSuffix(s.filter, "*")+sender)
			if err != nil {
				if !errors.Is(err, jetstream.ErrMsgNotFound) {
					break
				}
				continue
			}
			if seq, _, _, ok := openStreamEnvelope(m.Data); ok {
				stored[sender] = storedLast{seq: seq, offset: m.Sequence}
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for m := range s.holding {
		for _, a := range m.pos.Ahead {
			if last, ok := stored[a.Sender]; ok && a.Sender != s.b.sender && last.seq >= a.Seq && last.offset <= m.pos.Offset {
				m.pos.forget(a.Sender)
			}
		}
	}
	s.releaseHeld()
	if len(s.holding) > 0 {
		s.armHoldCheck()
	}
}

// storedLast is the last message of a sender in the stream: its number
// and offset.
type storedLast struct{ seq, offset uint64 }
