// Package backplane spans broadcasts across several lws servers through
// NATS (https://nats.io): when one server is not enough and several run
// behind a load balancer, a message broadcast on any of them reaches the
// clients of all.
//
// It is a module of its own (github.com/lws-go/lws/backplane) so that the
// NATS client stays out of the core library's go.mod.
//
// Two modes, per topic: Topic and Broadcaster send through core NATS, at
// most once (the cheap default: what a server misses while it or NATS is
// away is lost to it); Stream keeps the topic in a NATS JetStream stream,
// exactly once, across NATS restarts, server restarts and client
// reconnects (see Durable streams, and Figures for what it costs).
//
// # Model
//
// Connect joins a group: the servers using the same Options.Prefix on the
// same NATS. A Topic is one subject of the group, "<prefix>.<name>" (name
// escaped to a single subject token); Topic.Publish sends a message,
// labelled with a key, to every other server, and Topic.Subscribe receives
// theirs. Each message carries the sender's instance id; the connection is
// made with NoEcho, so a server never gets its own messages back, and a
// message tagged with our own id is skipped all the same: nothing is
// delivered twice locally.
//
// Broadcaster is Service.Broadcast spanning the group: Broadcast queues the
// message for the local connections of the protocol, then publishes it;
// the other servers hand it to their own Service.Broadcast, so it takes
// each loop's send queues, backpressure and overflow policy like a local
// broadcast.
//
// Order: NATS keeps the order of one connection's messages on a subject,
// and a subscription's callback runs on one goroutine, so what one sender
// publishes is delivered everywhere in that order. Messages of different
// senders may interleave differently on different servers.
//
// # Durable streams
//
// Backplane.Stream(name, opts) keeps the topic in the JetStream stream
// "<prefix>~<name>" (subjects "<prefix>.stream.<name>.<sender>"), with
// bounded history (StreamOptions.MaxMsgs, MaxBytes, MaxAge; file storage
// unless Memory). Every message gets the stream's sequence as its offset;
// the stream's epoch is its creation time (base 36), so it changes when
// the stream is recreated, by anyone, or lost with NATS's storage.
//
// Reading: each server reads the whole stream, in order, through a
// durable consumer named after Options.Instance, recreated from the last
// offset read whenever its delivery skips (a reconnect lost messages in
// flight), its heartbeats stop or it is gone. A server cut off from NATS
// catches up when NATS is back; a restarted server with the same Instance
// resumes after the last message it acknowledged (it acknowledges every
// 200ms; what it reads again, its new clients' positions cover, and it
// fills its cache). A message read twice (same sender, same
// number) is skipped (StreamStats.Duplicates); messages the history lost
// before this server read them are counted (Missed) and its clients told
// (a gap, below). Each server keeps the latest messages read in memory
// (CacheMsgs, CacheBytes) to recover clients without asking NATS.
//
// Publishing: Stream.Publish (or PublishFrom, for a client's message)
// numbers the message per server run and puts it in a bounded buffer
// (BufferMsgs, BufferBytes; 65536 messages and 8 MiB by default) until
// the stream gives it back; a publisher sends the buffer in order, up to
// 256 at a time. After anything that could break the order (a failed
// publish, a reconnect, a recreated stream) it waits for the publishes in
// flight to settle, asks the stream for its last message on its subject
// and goes on from the one after: each message is stored once, in
// order, however long NATS was away. With the buffer full Publish
// returns ErrBufferFull (counted in BufferFull) and no client gets the
// message; the test server's mirror then closes the sender with 1013.
// Backplane.Close waits up to 5s for the stream to acknowledge the
// buffer; what it never acknowledges (NATS down at Close, or a crash) is
// lost to the other servers, and Close logs how much.
//
// Local delivery: while NATS is reachable a server's clients get its own
// messages from the stream like everyone else's, so every client of every
// server gets every message in the same order, the stream's. When NATS is
// lost (or the stream is slower than LocalDelay, 1s by default) the
// server delivers its own messages to its clients at once, ahead of the
// stream, and goes back to the stream once they have all come back from
// it; local service never depends on NATS. Other servers' clients get
// them once the stream has them: per sender in order, each once.
//
// A client's messages are ordered after everything it had read:
// PublishFrom holds the messages of a client that reconnected with a
// position listing messages this server has not read yet (another server
// delivered them ahead of the stream during an outage) until it has
// read them (or the stream shows they went in a gap), at most HoldTimeout
// (1 minute); so a client's own messages stay in order when it moves
// between servers during an outage.
//
// # Client recovery
//
// Stream.Serve(c, key) (from OnEstablished; Leave from OnClosed) makes a
// connection a client of the stream for the messages of key, sent with
// Conn.Send. A client presents its position in the query parameter
// "since" of its handshake URL: empty for a fresh start, else the token
// of the last position it got (Position: "<epoch>.<offset>", followed by
// "~<sender>.<seq>" for the messages it got ahead of the stream during
// an outage). A query parameter rather than a header because a browser's
// WebSocket cannot set headers; rather than a first protocol message
// because the server knows at the handshake what to send, with no round
// trip, and clients that present nothing keep the plain protocol (bare
// messages; lws-test-client, the libwebsockets test page). Such a client
// first gets a status, then every message as "<position> <data>":
//
//	!at <token>                  fresh start, live from <token>
//	!recovered                   what it missed follows, then live messages
//	!not-recovered <token> <why> nothing missed can be sent; live from <token>
//	!gap <token> <why>           on a live connection: this server lost messages
//
// A recovery is granted whole or refused before anything is sent: the
// server waits (at most RecoverTimeout) until it has read as far as the
// position, then sends what the position lacks from its cache, or from
// the stream's history when the cache does not reach back so far, then the
// own messages it delivered ahead of the stream, then live messages: in
// order, no gap and no duplicate at the join. It is refused ("not
// recovered") when the epoch changed (or the position has none: its
// server had not reached the stream when it gave it, and what the
// client missed since is unknown), when neither the cache nor the
// history holds every message after the position, or on timeout. If the
// history loses messages while they are being sent, or sending them from
// it takes longer than RecoverTimeout in all (NATS slow to answer, or the
// client slow to read), the client is closed with 1013 and, from the
// position of the last message it got, recovers the rest or is told it
// cannot. A client that reads too slowly (its send queue full) is closed
// with 1013 as well; reconnecting, it recovers.
//
// Dial connects with a position and Client.Read returns statuses and
// messages and keeps the position to present next time; SinceURL and
// ParseEvent are the same for other clients.
//
// # The test server's mirror
//
// lws-mirror-protocol keeps its own stream and flow control
// (internal/testapp, in the core module). The choice made: the core
// module's testapp.SpanningMirror takes an optional fan-out,
// testapp.MirrorFanout (Publish(instance, msg) error, which Topic
// implements), and returns a deliver function for the other servers'
// messages, run on the service loop through Service.Post; no NATS code in
// the core module. This module's internal/spanmirror ties the two
// together (a nested module may import the core module's internal
// packages: its import path is below github.com/lws-go/lws), and
// cmd/lws-test-server-nats is lws-test-server (testapp.RunTestServer,
// the same flags) with --nats <url>: dumb-increment stays per connection,
// the mirror spans every server on that NATS. With --nats-durable the
// mirror is spanmirror.NewDurable, served from a Stream (mirror instances
// are its keys): the test page presents its position on every
// connection and, after a reconnect to any server, draws the strokes it
// missed.
//
// # When NATS is unreachable
//
// Connect returns at once even if NATS is down (RetryOnFailedConnect) and
// reconnects forever, every Options.ReconnectWait. Local service never
// depends on NATS: local clients get every local message throughout, new
// connections are accepted.
//
// Topics: messages published while disconnected wait in
// nats.go's reconnect buffer (Options.ReconnectBuffer, 8 MiB by default)
// and are sent on reconnect; once it is full Publish fails with
// nats.ErrReconnectBufExceeded (Stats.PublishErrors) and those messages
// reach local clients only. Messages published by others while this server
// is disconnected are lost to it: core NATS keeps nothing for an absent
// subscriber, and a buffered message that reaches the restarted NATS
// before another server has resubscribed is lost to that server. Measured
// (TestMirrorNATSRestart, 3 servers, 300 mirror messages sent during the
// outage, 1200 remote deliveries due): 600 of the 1200 arrived after the
// restart in most runs (722 in one), every local one did, none twice or
// out of order; after every server reconnected delivery was whole again.
// 600 is what sequential reconnects give: the first server back flushes
// its buffer before the other two have resubscribed (400 lost), the
// second before the third (200 lost).
// (TestBroadcastReconnectBuffer: with a 4 KiB buffer, 25 of 100 100-byte
// messages were kept, 75 refused, all 100 delivered locally.)
//
// Streams: the same outage (TestStreamMirrorNATSRestart) delivers 1200 of
// the 1200, every client of every server ending with all 900 messages in
// order per sender, none twice; a server restarted while the others'
// clients keep sending (TestStreamMirrorServerRestart) resumes its
// consumer and its clients, reconnecting with their positions, recover
// what they missed; TestStreamModel drives random sends, reconnects to
// any server with positions (and afresh), NATS stops, server restarts
// and kills (a crash: what the stream had not stored of the killed
// server's messages is lost, the rest reaches every client) against a
// per-client oracle, and reads the stream at the end: every message
// stored once, in order.
//
// Publish does not wait for the network (nats.go writes from its own
// goroutine) but can block briefly when its write buffer is full while
// connected. Remote mirror senders cannot be paused as local ones are:
// a reader that falls behind them is closed after testapp.MirrorStuckTimeout.
//
// # Figures
//
// BenchmarkFanout and BenchmarkDurableFanout (loopback, NATS embedded in
// the same process, 64-byte messages, one reading client, 5000 messages;
// six runs each, on 2 cores shared with another session's tests, load
// 1.6-2.2: the spread, widest at 256 in flight, is mostly that): from
// Broadcast or Stream.Publish on one server to a client of the same
// server ("local") or of another ("remote"), with one message in flight
// (the latency of one message) and with 256 (the throughput; the latency
// then includes queueing). Latencies are p50 / p99.
//
//	                          one in flight                      256 in flight
//	Broadcaster  local   1.2k msgs/s  260-290 / 540-900µs     160-230k msgs/s  0.6-0.8 / 1.5-4.6ms
//	             remote  1.0k         320-360 / 580-1130µs    160-190k         0.7-0.8 / 2.6-7.4ms
//	Stream file  local   0.8-1.0k     440-520µs / 1.0-2.4ms    11-28k          7-18 / 25-76ms
//	             remote  0.8-1.0k     400-470µs / 1.3-2.5ms    20-26k          7-11 / 28-38ms
//	Stream mem   local   0.9k         400-530µs / 1.2-1.8ms    19-32k          5.6-8.3 / 28-49ms
//	             remote  0.9-1.0k     390-460µs / 1.0-2.4ms    24-38k          4.8-8.2 / 17-57ms
//
// BenchmarkDurableRecovery: a client drops its connection, 10,000
// messages are published meanwhile, and it reconnects to another server
// with its position; timed from the reconnect (Dial) to the last missed
// message, read from the stream's history (more than a server's cache
// holds), each checked (exactly those, in order, at the offsets after
// the position's, then the next live one); three runs of three rounds,
// each case on a NATS of its own, same machine:
//
//	          64-byte messages                1 KiB messages
//	file      69-72 ms (140-144k msgs/s)      94-101 ms (99-107k msgs/s)
//	memory    59-80 ms (126-170k msgs/s)      119-129 ms (78-84k msgs/s)
//
// The defaults allow such a gap: the history (100,000 messages, 64 MiB)
// holds it at either size, and RecoverTimeout (10s), which bounds the
// whole read of the history for one recovery, is far off. Only a burst of
// 10,000 1 KiB messages published at once needs a larger BufferBytes than
// the default 8 MiB.
//
// Unloaded, a durable message reaches another server's client a little
// later than an at-most-once one (p50 390-470µs against 320-360µs:
// JetStream stores it and a consumer hands it on), while a server's own
// clients now wait for that round trip too (p50 400-530µs against
// 260-290µs), in exchange for one order on every server and nothing
// lost; the tail is longer (p99 1.0-2.5ms against 0.5-1.1ms).
// Throughput per stream is JetStream's: its one goroutine per stream
// storing every message takes most of the time (11k-38k messages per
// second per topic here, in memory or in files, against 160k-230k
// through core NATS); topics are separate streams and scale apart.
package backplane
