// Package tlsconn runs crypto/tls for connections owned by a non-blocking
// service loop (wss:// and https:// in lws for Go; libwebsockets' OpenSSL
// glue, lws_ssl_capable_read/write and the server/client TLS accept).
//
// The problem: crypto/tls drives a blocking net.Conn. Its handshake reads
// and writes until done, and an error during it (a "would block" included)
// is final. A loop that owns thousands of sockets cannot wait inside one of
// them, least of all for a client that sends its ClientHello one byte a
// second.
//
// The choice, in two phases over one in-memory transport ([Session]):
//
//   - Handshake on a goroutine. crypto/tls runs over an in-memory net.Conn
//     whose Read blocks until the loop feeds it the ciphertext it read from
//     the socket ([Session.Feed]) and whose Write only appends to an output
//     buffer. The goroutine tells the loop (the notify function given to
//     [Session.Start], which posts to the loop) when output is waiting and
//     when the handshake has ended; the loop writes that output to the
//     socket with its usual non-blocking writes. The socket stays on the
//     loop's poller throughout: a slow handshake holds one parked goroutine
//     and the bytes received so far (at most [MaxHandshakeInput]), never
//     the loop. A handshake lasts at most the caller's handshake timeout:
//     closing the Session ends its goroutine.
//   - Records on the loop. Once the loop has seen the handshake end, the
//     goroutine is gone and the Session belongs to the loop alone: the
//     transport's Read no longer blocks but answers a temporary
//     net.Error ([ErrWouldBlock]), which crypto/tls's record layer treats
//     as "no full record yet" and keeps its partial input, so
//     [Session.Read] decrypts what has arrived and returns ErrWouldBlock
//     when it needs more. [Session.Write] encrypts into the output buffer
//     and the loop writes it out as the socket drains. No goroutine and no
//     lock is involved per record.
//
// Why not the alternatives: a goroutine per connection for its whole life
// (what net/http does) costs a goroutine and its buffers per idle
// connection, which the loop exists to avoid; tls.QUICConn exposes exactly
// the event-driven handshake wanted here, but only for QUIC's record-less
// transport; a TLS implementation of our own is out of the question.
//
// Defaults ([ServerConfig], [ClientConfig]): TLS 1.2 and 1.3 only, crypto/
// tls's cipher suites and curves, ALPN "http/1.1"; clients verify the
// server's certificate against the system roots and send SNI unless told
// otherwise (InsecureSkipVerify, an explicit choice for self-signed test
// servers). [SelfSigned] makes a throwaway certificate for test servers.
//
// Imports: the standard library only. Session methods other than Feed,
// Output, Consumed and Close are for the owning loop goroutine after the
// handshake; see each method.
package tlsconn
