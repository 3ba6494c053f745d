package lws

import (
	"sync"
	"sync/atomic"

	"github.com/lws-go/lws/wsproto"
)

// Counting for Service.Stats.
//
// Each loop counts in a loopStats of its own, written by that loop's
// goroutine only (Conn.Send counts a refused message on its caller's), and
// Stats sums the loops' counters. The counters are atomics, each written
// by one goroutine, so an uncontended add on a cache line the loop owns:
// Stats works from any goroutine, a callback too (a metrics page served
// by Config.HTTP), before Run, after Close and with an external poll loop,
// without waiting for a loop. A snapshot taken by posting to every loop
// and waiting would save those adds but could wait forever there: a loop
// not running, or two loops each asking for the other's counters.

// Stats is a snapshot of a service's counters since New (Service.Stats),
// for a metrics exporter: expvar, Prometheus (see the examples) or a log
// line. Every WebSocket connection of the service counts, server and
// client ones alike; plain HTTP does not.
type Stats struct {
	// Connections is how many WebSocket connections are open now:
	// established (OnEstablished ran) and not yet gone (OnClosed).
	Connections int64
	// ConnectionsTotal is how many WebSocket connections were established.
	ConnectionsTotal uint64

	// MessagesReceived and BytesReceived count the data messages (text and
	// binary) received and their payload bytes as the peer sent them (so
	// compressed when permessage-deflate is on). Control frames (PING,
	// PONG, CLOSE) are not counted.
	MessagesReceived uint64
	BytesReceived    uint64
	// MessagesSent and BytesSent count the data messages sent (with
	// Conn.Write, Conn.Send or Service.Broadcast; a fragmented message
	// once) and their payload bytes as framed (compressed when
	// permessage-deflate is on), when they are handed to the connection's
	// output: some may not have reached the peer yet.
	MessagesSent uint64
	BytesSent    uint64

	// Queued is how many messages Conn.Send and Service.Broadcast queued
	// on connections: a broadcast counts once per connection it reached.
	Queued uint64
	// Dropped is how many messages Conn.Send and Service.Broadcast could
	// not queue on a connection because its send queue was full
	// (Limits.SendQueueSize), whatever the OverflowPolicy did then.
	Dropped uint64
	// BroadcastsRefused is how many Service.Broadcast calls returned
	// ErrBroadcastBacklog.
	BroadcastsRefused uint64

	// Closes counts the WebSocket connections gone, by the close code
	// OnClosed reported (CloseAbnormal, 1006, when no close frame
	// came). Its sum is ConnectionsTotal less Connections. The map is the
	// caller's; nil when no connection has closed.
	Closes map[CloseCode]uint64
}

// Stats sums the counters of every loop of the service into a snapshot.
// Safe from any goroutine, callbacks included; it never waits for a loop.
// The counters are read one by one while the loops go on counting, so a
// snapshot may count a message in MessagesSent and not yet its bytes; each
// counter only grows (Connections aside).
func (s *Service) Stats() Stats {
	var st Stats
	for _, l := range s.loops {
		ls := &l.stats
		// The closes are read before the connections established, so an
		// established count never lags behind a close of its own.
		ls.mu.Lock()
		for code, n := range ls.closes {
			if st.Closes == nil {
				st.Closes = make(map[wsproto.CloseCode]uint64)
			}
			st.Closes[code] += n
			st.Connections -= int64(n)
		}
		ls.mu.Unlock()
		established := ls.established.Load()
		st.ConnectionsTotal += established
		st.Connections += int64(established)
		st.MessagesReceived += ls.messagesIn.Load()
		st.BytesReceived += ls.bytesIn.Load()
		st.MessagesSent += ls.messagesOut.Load()
		st.BytesSent += ls.bytesOut.Load()
		st.Queued += ls.queued.Load()
		st.Dropped += ls.dropped.Load()
		st.BroadcastsRefused += ls.broadcastsRefused.Load()
	}
	return st
}

// loopStats are one loop's counters.
type loopStats struct {
	established atomic.Uint64
	messagesIn  atomic.Uint64
	bytesIn     atomic.Uint64
	messagesOut atomic.Uint64
	bytesOut    atomic.Uint64
	queued      atomic.Uint64
	dropped     atomic.Uint64 // also from Conn.Send's goroutine

	broadcastsRefused atomic.Uint64 // from Broadcast's goroutines

	mu     sync.Mutex
	closes map[wsproto.CloseCode]uint64 // at most the valid close codes, about 2,000
}

// opened counts a connection established.
func (s *loopStats) opened() { s.established.Add(1) }

// closed counts an established connection gone, with the code OnClosed
// gets.
func (s *loopStats) closed(code wsproto.CloseCode) {
	s.mu.Lock()
	if s.closes == nil {
		s.closes = make(map[wsproto.CloseCode]uint64)
	}
	s.closes[code]++
	s.mu.Unlock()
}

// received counts a piece of a data message read: n payload bytes, and the
// message when the piece ends it.
func (s *loopStats) received(n int, end bool) {
	s.bytesIn.Add(uint64(n))
	if end {
		s.messagesIn.Add(1)
	}
}

// sent counts a frame handed to the output: its payload bytes, and the
// message when it is a data frame that ends one.
func (s *loopStats) sent(op wsproto.Opcode, fin bool, n int) {
	if op.IsControl() {
		return
	}
	s.bytesOut.Add(uint64(n))
	if fin {
		s.messagesOut.Add(1)
	}
}

// queuedMessage counts a message queued on a connection by Send or
// Broadcast.
func (s *loopStats) queuedMessage() { s.queued.Add(1) }

// refusedMessage counts a message a full send queue refused.
func (s *loopStats) refusedMessage() { s.dropped.Add(1) }

// refusedBroadcast counts a broadcast refused for the loops' backlog.
func (s *loopStats) refusedBroadcast() { s.broadcastsRefused.Add(1) }
