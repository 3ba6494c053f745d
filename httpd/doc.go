// Package httpd owns the HTTP/1.1 side of lws: an incremental (push) parser
// for request heads, the writing of response heads and small error pages, and
// the resolution of static files under a document root. For clients,
// [ResponseParser] is the same kind of push parser for response heads (the
// answer to a WebSocket handshake or to a proxy's CONNECT); what it refuses
// is a [*ResponseError].
//
// In libwebsockets terms this is the part of the wsi state machine that runs
// before a connection becomes a WebSocket (LWS_CALLBACK_HTTP and the header
// parser in parsers.c), plus the "serve a file" helper used by the test server.
//
// The [Parser] is fed whatever bytes the service loop read, in chunks of any
// size (one byte at a time works), keeps its state across [Parser.Feed] calls,
// and never holds more than [Limits.MaxHeaderBytes] of head. Everything a peer
// can get wrong ends in an [*Error] carrying the HTTP status to answer with:
//
//	400  malformed request line, method, target, header line or framing headers
//	414  the request line alone exceeds MaxHeaderBytes
//	431  the head exceeds MaxHeaderBytes, or more than MaxHeaders fields
//	501  a transfer coding other than chunked, or CONNECT
//	505  an HTTP major version other than 1
//
// What a Parser returns lives in the Parser: the [Request] and its Header
// slice are reused after [Parser.Reset]. The strings of a Request from
// [Parser.Request] are a copy of their own (one allocation per head) and
// stay valid for good; [Parser.BorrowRequest] skips that copy, its strings
// aliasing the parser's buffer, which the next head overwrites. A server
// borrows to validate a WebSocket handshake and copies only what it keeps;
// anything handed to code that may keep it (a user's callback) comes from
// Request. [ResponseParser] always copies.
//
// [OpenStatic] maps a decoded URL path onto a directory and opens only
// regular files that really lie inside it: ".." segments are refused with 403,
// symlinks are followed only while they stay inside the root (checked by the
// kernel through [os.Root], so there is no window between check and open),
// and anything that is not a regular file is refused with 403.
//
// This package does no I/O except opening static files, keeps no goroutines,
// and must not import other packages of this module (only the standard
// library). It is safe to use from the loop goroutine that owns a connection;
// a Parser itself is not safe for concurrent use.
package httpd
