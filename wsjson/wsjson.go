// Package wsjson sends and receives JSON values as WebSocket text
// messages, one value per message, in both roles: [Read] and [Write] on a
// client's [lws.ClientConn], [Send], [Broadcast] and [WriteConn] on the
// server's [lws.Conn] (and Service.Connect's), [Receive] in a
// Protocol.OnReceive callback.
//
// Encoding is encoding/json's (json.Marshal's output, without its
// trailing newline), into buffers kept in a sync.Pool: sending a value
// allocates what encoding/json allocates for it, and no buffer for the
// message, since every lws send function copies or consumes the bytes
// before it returns.
package wsjson

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sync"

	"github.com/lws-go/lws"
)

// encoder is a pooled buffer with its json.Encoder.
type encoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var encoders = sync.Pool{New: func() any {
	e := &encoder{}
	e.enc = json.NewEncoder(&e.buf)
	return e
}}

// maxPooled is the largest buffer put back in the pool, so one huge value
// does not keep its buffer alive.
const maxPooled = 64 << 10

// encode encodes v and calls send with the message; the bytes are reused
// after send returns.
func encode(v any, send func([]byte) error) error {
	e := encoders.Get().(*encoder)
	defer func() {
		if e.buf.Cap() <= maxPooled {
			e.buf.Reset()
			encoders.Put(e)
		}
	}()
	if err := e.enc.Encode(v); err != nil {
		return err
	}
	b := e.buf.Bytes()
	return send(b[:len(b)-1]) // Encode ends the value with '\n'
}

// Write sends v as one text message on cc (ClientConn.WriteMessage: ctx
// bounds the wait while too much is unsent). Safe for concurrent use.
func Write(ctx context.Context, cc *lws.ClientConn, v any) error {
	return encode(v, func(b []byte) error { return cc.WriteMessage(ctx, lws.WriteText, b) })
}

// Read waits for the next message on cc (ClientConn.ReadMessage) and
// decodes it into v. A binary message is decoded too. A message that is
// not one JSON value is an error that leaves the connection as it is.
func Read(ctx context.Context, cc *lws.ClientConn, v any) error {
	_, data, err := cc.ReadMessage(ctx)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// Send queues v as one text message on c (Conn.Send): safe from any
// goroutine, with Conn.Send's ordering, backpressure and errors.
func Send(c *lws.Conn, v any) error {
	return encode(v, func(b []byte) error { return c.Send(b, lws.WriteText) })
}

// Broadcast queues v, encoded once, as one text message for every
// established connection of protocol p (Service.Broadcast). Safe from any
// goroutine.
func Broadcast(s *lws.Service, p *lws.Protocol, v any) error {
	return encode(v, func(b []byte) error { return s.Broadcast(p, b, lws.WriteText) })
}

// WriteConn writes v as one text frame on c (Conn.Write): in a callback
// of c, on its loop, with Conn.Write's errors (ErrWriteBufferFull among
// them).
func WriteConn(c *lws.Conn, v any) error {
	return encode(v, func(b []byte) error { return c.Write(b, lws.WriteText) })
}

// ErrPartialMessage is Receive's error for a piece of a message: the
// protocol must deliver whole messages (Protocol.Reassemble).
var ErrPartialMessage = errors.New("wsjson: a piece of a message, not a whole one: set Protocol.Reassemble")

// Receive decodes the message data that Protocol.OnReceive got for c into
// v. The protocol must set Reassemble, so data is a whole message. v owns
// what it decodes: nothing refers to data after Receive returns.
func Receive(c *lws.Conn, data []byte, v any) error {
	if !c.IsFinalFragment() || c.RemainingPayload() != 0 {
		return ErrPartialMessage
	}
	return json.Unmarshal(data, v)
}
