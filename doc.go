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
// says "safe from any goroutine". Other goroutines use [Conn.Post],
// [Conn.Send], [Service.Broadcast] and [Service.Post].
//
// Received data is delivered piecewise, as libwebsockets does: each
// [Protocol.OnReceive] call carries at most [Protocol.RxBufferSize] bytes, with
// [Conn.IsFinalFragment], [Conn.RemainingPayload] and [Conn.IsBinary]
// describing the piece. The data slice is valid only until the callback
// returns. [Protocol.Reassemble] delivers whole messages instead.
//
// # Layers
//
// A connection's code is layered by file. The transport (transport.go)
// owns the socket, what the poller watches, the output queue and the
// loop's buffer pool; its sock* methods are the only code that touches
// the socket, and package internal/sockio makes the system calls. Input
// goes up: the transport hands out kept bytes, TLS plaintext (tls.go) or
// what the socket gives; the read path (conn_read.go) parses frames,
// inflates compressed messages (compress.go) and delivers them to the
// protocol's callbacks (callbacks.go). Output goes down: the write path
// (conn_write.go) frames what is written into the output queue, and the
// transport flushes it to the socket, through TLS when there is a
// session. The listener (listener.go) accepts sockets and makes them
// connections; plain HTTP (http.go) and the handshakes use the same
// transport.
//
// A socket is a descriptor the loop's poller watches (epoll on Linux,
// poll(2) on the other unix systems), or, on the portable backend
// ([BackendPortable]: Windows, or when [Config.Backend] asks for it), a
// net.Conn that a reader and a writer goroutine serve, notifying the loop
// (netsocket.go). The socket seam takes that branch; nothing above it
// knows which backend runs.
//
// # Where to start
//
//   - A server: [New] with a [Config] listing the [Protocol]s, then
//     [Service.Run]; see the package example (an echo server).
//   - Broadcasting and sending from other goroutines: [Service.Broadcast],
//     [Conn.Send] and [Conn.Post] are safe from any goroutine; the message
//     is queued on the connection's loop and leaves whole, in order, as
//     the socket takes it (libwebsockets' broadcast_foreign, without its
//     flaws).
//   - A client: [Dial] for ordinary blocking Go code (whole messages,
//     [context.Context]), or [Service.Connect] for a client connection with
//     callbacks on the loop (lws_client_connect_via_info).
//   - JSON messages: package wsjson, in both roles.
//   - Plain HTTP and files on the same port: [Config.HTTP] and
//     [Config.DocumentRoot] (LWS_CALLBACK_HTTP on protocol 0).
//   - An existing net/http program: [Service.Handler] or [Service.Upgrade]
//     validate the handshake as the native server does, hijack the
//     connection and hand its socket to a service loop, so the program
//     keeps its http.Server, router and middleware and the connection
//     costs no goroutine afterwards (TLS served by net/http is bridged; see
//     Service.Upgrade). [Service.UpgradeWith] binds the route's protocol
//     and the connection's user value (who the middleware authenticated);
//     header fields set on the ResponseWriter go out with the 101.
//   - Per connection: [Conn.SetUser] and [UserOf] hold the program's value
//     for it; [Conn.Request] gives OnEstablished the handshake request
//     (header fields, cookies).
//   - Routing request paths to protocols, on the service's own listener
//     too: [Protocol.Path].
//   - Metrics: [Service.Stats], a snapshot of counters for expvar or a
//     Prometheus collector (module examples/prometheus).
//   - A poll loop of the program's own: [Config.External] and
//     [Service.ServiceFD] (libwebsockets' external poll support).
//   - Compression: [Protocol.Compression] (or [DialOptions.Compression])
//     negotiates permessage-deflate (RFC 7692) with every peer that offers
//     or accepts it; package pmdeflate holds the negotiation and codec.
//   - TLS: [Config.TLS] serves https:// and wss:// on the same port; wss://
//     URLs (and [ClientInfo.Secure]) dial with TLS, verifying the server
//     unless [ClientInfo.TLSConfig] says otherwise. Handshakes never stall
//     the loop (package tlsconn explains how).
//   - Logging: the libwebsockets log mask in package logging, with
//     emitters for stderr, syslog and log/slog. The library is quiet by
//     default: only errors and warnings, on stderr; logging.SetLogLevel
//     asks for more, or sends the lines to log/slog.
package lws
