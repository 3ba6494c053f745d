package backplane

import (
	"errors"
	"net/url"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/logging"
	"github.com/lws-go/lws/wsproto"
)

// Serving a Stream to WebSocket clients: membership, live delivery,
// statuses and recovery from the cache (the package documentation, Client
// recovery, has the protocol; feed_recover.go recovers from the history).

// SinceParam is the query parameter in which a client presents its
// position.
const SinceParam = "since"

// Status messages start with StatusPrefix, which no position token does.
const StatusPrefix = '!'

// recoverQueued is how many bytes a recovery from history leaves queued
// for the client before it waits for them to drain.
const recoverQueued = 1 << 20

type memberState uint8

const (
	waitingState    memberState = iota // for this server to reach its position
	recoveringState                    // reading history, off the lock
	liveState
	goneState
)

// member is a client connection served by a stream.
type member struct {
	c         *lws.Conn
	key       string
	framed    bool // presented a position: gets statuses and positions
	state     memberState
	pos       Position // what it has read (in recovery: so far)
	since     Position // what it presented
	timer     *time.Timer
	held      [][]byte // messages it sent, held until this server has read all it had (PublishFrom)
	heldLen   int      // their bytes
	holdTimer *time.Timer
}

// Serve makes c a client of the stream for messages of key: call it from
// the protocol's OnEstablished (it reads the "since" query parameter);
// call Leave from OnClosed. Messages are sent with Conn.Send. A client
// that falls so far behind that its send queue is full
// (Limits.SendQueueSize) is closed with 1013 (try again later): it can
// reconnect and recover.
func (s *Stream) Serve(c *lws.Conn, key string) {
	q, _ := url.ParseQuery(c.RequestQuery())
	since, framed := q[SinceParam]
	m := &member{c: c, key: key, framed: framed}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		_ = c.Post(func() { c.Close(wsproto.CloseGoingAway, "server stopping") })
		return
	}
	s.members[c] = m
	tok := ""
	if framed {
		tok = since[0]
	}
	if tok == "" {
		m.state, m.pos = liveState, s.position()
		if framed {
			s.status(m, "!at "+m.pos.String())
		}
		return
	}
	p, err := ParsePosition(tok)
	if err != nil {
		s.refuse(m, "malformed position")
		return
	}
	m.since, m.pos = p, p
	if !s.tryRecover(m) {
		m.state = waitingState
		s.waiting[m] = struct{}{}
		m.timer = time.AfterFunc(s.o.RecoverTimeout, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if m.state == waitingState {
				delete(s.waiting, m)
				s.refuse(m, "timed out waiting for the stream")
			}
		})
	}
}

// Leave ends c's membership; call it from OnClosed.
func (s *Stream) Leave(c *lws.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.members[c]; m != nil {
		s.remove(m)
	}
}

func (s *Stream) remove(m *member) {
	delete(s.members, m.c)
	delete(s.waiting, m)
	if m.timer != nil {
		m.timer.Stop()
	}
	m.state = goneState
	if len(m.held) > 0 {
		s.stats.heldTooLong.Add(uint64(len(m.held)))
		s.release(m)
	}
}

var errNotServed = errors.New("backplane: PublishFrom: the connection is not served by the stream")

// PublishFrom publishes data sent by client c (one served by Serve)
// under c's key, as Publish does, and after everything c had read: a
// client that reconnected to this server with a position holding
// messages this server has not read yet (some other server delivered
// them ahead of the stream while NATS was unreachable) has its messages
// held until this server has read them, so every client gets them in
// that order (a client's own earlier messages among them: its messages
// stay in order across servers). While held they reach no client, this
// server's included. Messages held longer than HoldTimeout, or beyond a
// quarter of BufferMsgs or BufferBytes, or when c leaves, are published
// then (StreamStats.HeldTooLong).
func (s *Stream) PublishFrom(c *lws.Conn, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.members[c]
	switch {
	case s.closing:
		return ErrStreamClosed
	case m == nil:
		return errNotServed
	case len(m.held) == 0 && s.caughtUp(m):
		return s.publish(m.key, data)
	}
	s.stats.held.Add(1)
	m.held = append(m.held, append([]byte(nil), data...))
	m.heldLen += len(data)
	if len(m.held) == 1 {
		s.holding[m] = struct{}{}
		s.armHoldCheck()
		m.holdTimer = time.AfterFunc(s.o.HoldTimeout, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if len(m.held) > 0 {
				s.stats.heldTooLong.Add(uint64(len(m.held)))
				s.release(m)
			}
		})
	}
	if len(m.held) >= s.o.BufferMsgs/4 || m.heldLen >= s.o.BufferBytes/4 {
		s.stats.heldTooLong.Add(uint64(len(m.held)))
		s.release(m)
	}
	return nil
}

// caughtUp reports whether this server has read everything m had: m is
// live and reads nothing ahead of the stream but this server's own.
func (s *Stream) caughtUp(m *member) bool {
	if m.state != liveState {
		return false
	}
	for _, a := range m.pos.Ahead {
		if a.Sender != s.b.sender {
			return false
		}
	}
	return true
}

// releaseHeld publishes the held messages of members that have caught up.
func (s *Stream) releaseHeld() {
	for m := range s.holding {
		if s.caughtUp(m) {
			s.release(m)
		}
	}
}

func (s *Stream) release(m *member) {
	held := m.held
	m.held, m.heldLen = nil, 0
	delete(s.holding, m)
	if m.holdTimer != nil {
		m.holdTimer.Stop()
	}
	for _, data := range held {
		_ = s.publish(m.key, data) // ErrBufferFull: counted
	}
}

// tryRecover serves m's recovery if this server can now: it reports
// false when m must wait (the epoch is not known yet, or this server
// has not read as far as m's position).
func (s *Stream) tryRecover(m *member) bool {
	switch {
	case s.closing:
		s.refuse(m, "server stopping")
		return true
	case s.epoch == "" || !s.started:
		return false
	case m.since.Epoch == "":
		s.refuse(m, "no epoch: the position was given before its server had reached the stream")
		return true
	case m.since.Epoch != s.epoch:
		s.refuse(m, "epoch changed: "+m.since.Epoch+" asked, the stream is at "+s.epoch)
		return true
	case m.since.Offset > s.head:
		return false
	case m.since.Offset+1 >= s.cacheFrom:
		s.stats.recovered.Add(1)
		s.status(m, "!recovered")
		s.catchUp(m)
		return true
	}
	m.state = recoveringState
	s.recoverings.Add(1)
	go s.recoverFromHistory(m)
	return true
}

// checkWaiting retries the recoveries waiting for this server.
func (s *Stream) checkWaiting() {
	for m := range s.waiting {
		if s.tryRecover(m) {
			delete(s.waiting, m)
			if m.timer != nil {
				m.timer.Stop()
			}
		}
	}
}

// catchUp sends m what it misses from the cache and the own messages
// delivered ahead of the stream, and makes it live. The cache covers
// m.pos.
func (s *Stream) catchUp(m *member) {
	i := 0
	for i < len(s.cache) && s.cache[i].offset <= m.pos.Offset {
		i++
	}
	for _, e := range s.cache[i:] {
		if !s.offer(m, e) {
			return
		}
	}
	if m.pos.Offset < s.head {
		m.pos.Offset = s.head
	}
	for _, p := range s.pending {
		if p.seq <= s.ahead && !s.offer(m, &p.entry) {
			return
		}
	}
	if s.ahead > s.ownRead {
		m.pos.advance(0, s.b.sender, s.ahead)
	}
	m.state = liveState
	if len(m.held) > 0 && s.caughtUp(m) {
		s.release(m)
	}
}

// refuse tells m its position cannot be recovered and makes it live from
// this server's position.
func (s *Stream) refuse(m *member, why string) {
	s.stats.notRecovered.Add(1)
	m.state, m.pos = liveState, s.position()
	s.status(m, "!not-recovered "+m.pos.String()+" "+why)
	if len(m.held) > 0 && s.caughtUp(m) {
		s.release(m)
	}
}

// gap tells live clients this server lost messages.
func (s *Stream) gap(why string) {
	for _, m := range s.members {
		if m.state != liveState {
			continue
		}
		ahead := m.pos.Ahead
		m.pos = s.position()
		for _, a := range ahead {
			if a.Sender != s.b.sender {
				m.pos.advance(0, a.Sender, a.Seq)
			}
		}
		if m.framed {
			s.status(m, "!gap "+m.pos.String()+" "+why)
		}
	}
}

// deliver hands a message read from the stream to the live members.
func (s *Stream) deliver(e *entry) {
	for _, m := range s.members {
		if m.state == liveState {
			s.offer(m, e)
		}
	}
}

// deliverAhead hands an own message to the live members before the
// stream has it.
func (s *Stream) deliverAhead(e *entry) {
	s.ahead = e.seq
	s.stats.ahead.Add(1)
	for _, m := range s.members {
		if m.state == liveState {
			s.offer(m, e)
		}
	}
}

// offer moves m past e and sends e if m wants it and has not read it. It
// reports false when m is gone.
func (s *Stream) offer(m *member, e *entry) bool {
	if m.pos.covers(e.offset, e.sender, e.seq) {
		m.pos.advance(e.offset, e.sender, e.seq)
		return true
	}
	m.pos.advance(e.offset, e.sender, e.seq)
	if e.key != m.key {
		return true
	}
	return s.send(m, s.frame(m, e.data), s.mode)
}

// frame is what m gets for data: the data, after its position for a
// framed member.
func (s *Stream) frame(m *member, data []byte) []byte {
	if !m.framed {
		return data
	}
	b := make([]byte, 0, 48+len(data))
	b = m.pos.appendTo(b)
	b = append(b, ' ')
	return append(b, data...)
}

func (s *Stream) status(m *member, text string) {
	s.send(m, []byte(text), lws.WriteText)
}

// send queues a message for m; a full queue closes m with 1013.
func (s *Stream) send(m *member, data []byte, mode lws.WriteMode) bool {
	err := m.c.Send(data, mode)
	switch {
	case err == nil:
		s.stats.sent.Add(1)
		return true
	case errors.Is(err, lws.ErrSendQueueFull):
		s.stats.slowClosed.Add(1)
		s.closeMember(m, "reader too slow: reconnect to recover")
	}
	s.remove(m)
	return false
}

// closeMember closes m's connection with 1013 (try again later).
func (s *Stream) closeMember(m *member, why string) {
	logging.Infof("backplane %s: stream %s: closing client %v: %s", s.b.id, s.name, m.c.RemoteAddr(), why)
	c := m.c
	_ = c.Post(func() { c.Close(wsproto.CloseTryAgainLater, why) })
}
