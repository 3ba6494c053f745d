// Package lws serves and dials WebSocket connections (RFC 6455) and plain
// HTTP on a non-blocking service loop, in the manner of libwebsockets.
//
// A [Service] (libwebsockets' context) owns one or more service loops. Each
// connection ([Conn], libwebsockets' wsi) belongs to exactly one loop and every
// callback of its [Protocol] runs on that loop's goroutine, so callbacks need
// no locks. An idle connection costs a table slot and its Conn struct: no
// goroutine and no per-connection read buffer (each loop reads into one
// shared buffer and the frame parser keeps only a few bytes of state).
//
// Sending follows libwebsockets' writeable model: call
// [Conn.RequestWriteable] and send from [Protocol.OnWriteable]. [Conn.Write]
// always takes the whole frame; what the socket does not accept at once is
// kept by the library and flushed as the socket drains, up to
// [Limits.WriteBufferSize] (see [ErrWriteBufferFull] for the policy).
//
// Ownership rule: methods of Conn and Service are to be called from the
// connection's loop goroutine (inside a callback) unless their documentation
// says "safe from any goroutine". Other goroutines use [Service.Post].
//
// Received data is delivered piecewise, as libwebsockets does: each
// [Protocol.OnReceive] call carries at most [Protocol.RxBufferSize] bytes, with
// [Conn.IsFinalFragment], [Conn.RemainingPayload] and [Conn.IsBinary]
// describing the piece. The data slice is valid only until the callback
// returns.
package lws
