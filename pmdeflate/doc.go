// Package pmdeflate is the permessage-deflate WebSocket extension (RFC 7692)
// of lws for Go: the negotiation carried in Sec-WebSocket-Extensions, for
// the server and the client, and the codec that compresses and inflates
// whole messages on caller buffers with compress/flate.
//
// Negotiation:
//
//   - [ParseExtensions] parses Sec-WebSocket-Extensions values (RFC 6455
//     section 9.1: extensions separated by commas, parameters by semicolons,
//     values as tokens or quoted strings); a syntax error is an [*Error]
//     quoting the input.
//   - [Negotiate] is the server side (libwebsockets' permessage-deflate
//     extension callback on the server): it goes through the client's
//     offers in order, declines every offer it cannot honour (an unknown or
//     repeated parameter, a bad value, a window it cannot keep to) and
//     answers the first it can with the exact response RFC 7692 section 7
//     asks for.
//   - [ClientConfig.Offer] builds a client's offer, which always carries
//     client_max_window_bits, and [ClientConfig.Accept] checks the server's
//     answer against it: every valid answer is accepted, and a response the
//     RFC says must fail the connection is an error.
//
// The agreed [Params] say, per direction ([Params.Server], [Params.Client]),
// whether the sender keeps its LZ77 window between messages (context
// takeover) and how large it may be.
//
// Windows: compress/flate always compresses with a 32 KiB window. When a
// peer limits our window below 15 bits (server_max_window_bits for a server,
// client_max_window_bits for a client), a [Compressor] for that direction
// works at level 1 and restarts its flate state after every 2^bits bytes of
// a message, so no back-reference reaches past the window (a JSON feed
// under a 12-bit window still compresses to about 14%, where Huffman-only
// coding would give 53%); it keeps no context between messages then. A
// server prefers any other offer of the same header that it can honour
// with its whole window. Inflating works for every window size from 8 to
// 15 bits. Either side may ask the peer for a
// smaller window ([ClientConfig.ServerMaxWindowBits],
// [ServerConfig.ClientMaxWindowBits]) to keep less of its history.
//
// Memory (measured by TestMemoryPerConnection, amd64, Go 1.26):
//
//   - A [Compressor] without context takeover holds nothing between
//     messages: its flate.Writer comes from a pool (per level) for the
//     duration of one message. With context takeover it keeps its own
//     flate.Writer: about 1.2 MB at level 1 (BestSpeed), 0.8 MB at levels
//     2-9. That is why lws answers server_no_context_takeover unless asked
//     for takeover. Huffman-only output has no back-references, so at that
//     level the compressor is pooled even with context takeover.
//   - A [Decompressor] borrows a pooled flate reader (about 40 KB) for one
//     message. With the peer's context takeover it keeps the last window of
//     inflated bytes (up to twice the window, 64 KiB for 15 bits, grown only
//     as messages need it) to prime the next message.
//
// Allocation: compressing and inflating allocate nothing per message in
// steady state (TestCodecAllocatesNothing), except that compress/flate's
// decoder allocates small link tables for each dynamic Huffman block with
// codes longer than 9 bits (a few per message of some kilobytes).
//
// The cap on the inflated size of a message ([Decompressor.Reset]'s limit)
// is checked while inflating, in chunks of the caller's buffer, so a small
// compressed message that would inflate to gigabytes (a "zip bomb") is
// refused with 1009 after at most limit+1 bytes of output.
//
// Errors a peer can cause are [*wsproto.ProtocolError] values carrying the
// close code: 1009 for a message over the cap, 1007 for data that does not
// inflate.
//
// Imports: the standard library and wsproto only; nothing here does I/O,
// and the types are not safe for concurrent use (a connection's loop
// goroutine owns them).
package pmdeflate
