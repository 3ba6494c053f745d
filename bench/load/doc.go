// Package load is the benchmark load generator: raw non-blocking sockets,
// one epoll loop per worker thread and package wsproto for framing, so the
// client spends less per message than the servers it measures. It has
// three modes:
//
//   - echo: N connections each keep P messages of M bytes in flight for a
//     duration; it reports messages/s, latency percentiles and the server's
//     CPU time per message (from /proc/PID/stat, over the measured window
//     only, after a warm-up).
//   - idle: N upgraded connections that send nothing, from source
//     addresses spread over 127.0.0.x; it reports the server's RSS (from
//     /proc/PID/status) before and after, and the slope per connection.
//   - broadcast: N receivers and one sender whose message the server
//     sends to all; it reports the time until the last receiver has it and
//     the server's CPU time per delivered message.
//
// Against the raw TCP floors (Proto "raw") the same byte counts travel
// without WebSocket framing.
package load
