package lws

import "errors"

var (
	// ErrWriteBufferFull is returned by Conn.Write when more than
	// Limits.WriteBufferSize bytes already wait unsent on the connection.
	// Nothing of the refused message is queued: the caller keeps it and
	// retries from OnWriteable (RequestWriteable asks for that callback).
	// A single message larger than the limit is accepted when nothing is
	// pending, so the limit never makes a message impossible to send.
	ErrWriteBufferFull = errors.New("lws: write buffer full")

	// ErrClosed is returned for operations on a connection or service that
	// is closing or closed.
	ErrClosed = errors.New("lws: connection closed")

	// ErrNotEstablished is returned by Write before the WebSocket handshake
	// completed (or on a plain HTTP connection).
	ErrNotEstablished = errors.New("lws: connection not established")

	// ErrServiceClosed is returned by Service methods after Close or
	// Shutdown.
	ErrServiceClosed = errors.New("lws: service closed")

	// ErrBroadcastBacklog is returned by Service.Broadcast when a loop has
	// not yet handed out Limits.BroadcastBacklog bytes of earlier
	// broadcasts: the broadcasting goroutines outpace the loop. The
	// message goes to no connection (on no loop); the caller may retry it
	// later, or drop it.
	ErrBroadcastBacklog = errors.New("lws: broadcast backlog full")
)

var (
	errBadMode    = errors.New("lws: unknown write mode")
	errBadControl = errors.New("lws: control frame over 125 bytes or fragmented")
)
