package backplane

import (
	"errors"

	"github.com/lws-go/lws"
)

// Broadcaster is Service.Broadcast to one protocol spanning the group:
// every server of the group with a Broadcaster for a protocol of the same
// name delivers what any of them broadcasts to its local connections of
// that protocol.
type Broadcaster struct {
	svc   *lws.Service
	p     *lws.Protocol
	topic *Topic
}

// Broadcaster links protocol p of svc to the group (topic: p's name) and
// starts delivering the other servers' broadcasts through
// Service.Broadcast, so they take each loop's send queues, backpressure
// and overflow policy like local ones.
func (b *Backplane) Broadcaster(svc *lws.Service, p *lws.Protocol) (*Broadcaster, error) {
	bc := &Broadcaster{svc: svc, p: p, topic: b.Topic(p.Name)}
	err := bc.topic.Subscribe(func(key string, data []byte) {
		mode := lws.WriteBinary
		if key == "t" {
			mode = lws.WriteText
		}
		// Refused only once the service closed, or when its loops have a
		// backlog of broadcasts (counted in Stats.BroadcastsRefused): at
		// most once, as this mode promises.
		_ = svc.Broadcast(p, data, mode)
	})
	if err != nil {
		return nil, err
	}
	return bc, nil
}

// Broadcast queues data for every connection of the protocol on this
// server (Service.Broadcast) and publishes it to the other servers. Safe
// from any goroutine; what one goroutine broadcasts arrives everywhere in
// that order. The local delivery happens even when publishing fails (NATS
// unreachable and its reconnect buffer full): the error says the other
// servers miss the message.
func (bc *Broadcaster) Broadcast(data []byte, mode lws.WriteMode) error {
	key := "b"
	switch mode {
	case lws.WriteText:
		key = "t"
	case lws.WriteBinary:
	default:
		return errors.New("backplane: Broadcast takes WriteText or WriteBinary")
	}
	if err := bc.svc.Broadcast(bc.p, data, mode); err != nil {
		return err
	}
	return bc.topic.Publish(key, data)
}

// Topic is the broadcaster's topic.
func (bc *Broadcaster) Topic() *Topic { return bc.topic }
