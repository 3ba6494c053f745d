// Package backplane spans broadcasts across several lws servers through
// NATS (https://nats.io): when one server is not enough and several run
// behind a load balancer, a message broadcast on any of them reaches the
// clients of all.
//
// It is a module of its own (github.com/lws-go/lws/backplane) so that the
// NATS client stays out of the core library's go.mod.
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
// the mirror spans every server on that NATS.
//
// # When NATS is unreachable
//
// Connect returns at once even if NATS is down (RetryOnFailedConnect) and
// reconnects forever, every Options.ReconnectWait. Local service never
// depends on NATS: local clients get every local message throughout, new
// connections are accepted. Messages published while disconnected wait in
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
// Publish does not wait for the network (nats.go writes from its own
// goroutine) but can block briefly when its write buffer is full while
// connected. Remote mirror senders cannot be paused as local ones are:
// a reader that falls behind them is closed after testapp.MirrorStuckTimeout.
//
// # Figures
//
// BenchmarkFanout (2 cores, loopback, embedded NATS, 64-byte messages,
// one reading client): Service.Broadcast alone ("local") against a
// broadcast from another server through NATS ("remote").
//
//	              one in flight             256 in flight
//	local     1.5k msgs/s  p50 255µs p99 0.5-1.1ms   140-216k msgs/s  p50 0.6ms  p99 3.8-24ms
//	remote    0.96k msgs/s p50 335µs p99 1.7-2.5ms   163-175k msgs/s  p50 0.7ms  p99 3.5-4.5ms
//
// With one message in flight the figure is the latency of one message
// (NATS adds about 80µs at the median); with 256 in flight it is the
// throughput, and the latency includes queueing.
package backplane
