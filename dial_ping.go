package lws

import (
	"context"
	"encoding/binary"
)

// pingWait is a PING of ClientConn.Ping on the wire, waiting for its PONG.
type pingWait struct {
	id   uint64
	pong chan struct{}
}

// maxPingsWaiting bounds the PINGs remembered while the server answers
// none; the oldest is forgotten beyond it (its Ping waits for its ctx).
const maxPingsWaiting = 64

// Ping sends a PING and waits for the server's PONG to it: a round trip
// that shows the connection and the server's loop are alive. The PING
// goes out after what WriteMessage has already queued. As RFC 6455
// section 5.5.3 lets a server answer only the most recent of several
// PINGs, a PONG answers its PING and every PING sent before it.
//
// It returns nil once the answer came; ctx's error when ctx ends first
// (the connection stays usable); and, like WriteMessage, the *CloseError
// or ErrClosed when the connection ends first. Safe for concurrent use.
func (cc *ClientConn) Ping(ctx context.Context) error {
	payload := binary.BigEndian.AppendUint64(make([]byte, 0, 8), cc.pingSeq.Add(1))
	w := &writeReq{data: payload, mode: WritePing, pong: make(chan struct{})}
	if err := cc.write(ctx, w); err != nil {
		return err
	}
	select {
	case <-w.pong:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-cc.done:
		select {
		case <-w.pong: // answered just before the end
			return nil
		default:
		}
		return cc.closedErr()
	}
}

// sentPing records the PING of w, just written (loop only).
func (cc *ClientConn) sentPing(w *writeReq) {
	if len(cc.pings) == maxPingsWaiting {
		cc.pings = append(cc.pings[:0], cc.pings[1:]...)
	}
	cc.pings = append(cc.pings, pingWait{id: binary.BigEndian.Uint64(w.data), pong: w.pong})
}

// pong answers the PING the payload names and those sent before it (loop
// only). Other PONGs (keepalive answers, unsolicited ones) are ignored.
func (cc *ClientConn) pong(payload []byte) {
	if len(payload) != 8 {
		return
	}
	id := binary.BigEndian.Uint64(payload)
	for i, p := range cc.pings {
		if p.id != id {
			continue
		}
		for _, answered := range cc.pings[:i+1] {
			close(answered.pong)
		}
		cc.pings = append(cc.pings[:0], cc.pings[i+1:]...)
		return
	}
}
