package backplane

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lws-go/lws/logging"
	"github.com/nats-io/nats.go"
)

// Options configure Connect. The zero value (or nil) is usable.
type Options struct {
	// Prefix is the first token of every subject (default "lws"):
	// servers with the same prefix on the same NATS form one group.
	Prefix string
	// Instance identifies this server in the group (default: 16 random hex
	// digits). Messages carry it; a message of our own is never delivered
	// back.
	Instance string
	// ReconnectWait is the pause between reconnect attempts (default
	// 250ms). Reconnects never stop.
	ReconnectWait time.Duration
	// ReconnectBuffer is how many bytes of messages published while NATS
	// is unreachable are kept to send on reconnect (default 8 MiB, as
	// nats.go); beyond it Publish fails and the message only reaches
	// local clients. Negative: buffer nothing.
	ReconnectBuffer int
	// NATS are further nats.go options, applied after ours.
	NATS []nats.Option
}

// Backplane is one server's link to its group on NATS.
type Backplane struct {
	nc            *nats.Conn
	id            string
	prefix        string
	sender        string // this run's id in streams' subjects (random)
	reconnectWait time.Duration
	stats         counters

	mu      sync.Mutex
	topics  []*Topic
	streams []*Stream
}

type counters struct {
	published, publishErrors, received, own, bad atomic.Uint64
}

// Stats count a Backplane's messages since Connect.
type Stats struct {
	Published     uint64 // messages handed to NATS
	PublishErrors uint64 // messages NATS refused (reconnect buffer full, closed): local only
	Received      uint64 // messages from other instances delivered
	Own           uint64 // messages of our own that came back and were skipped
	Malformed     uint64 // messages without our envelope, skipped
}

// Connect joins the group on the NATS server(s) at url (comma-separated
// for several). It returns at once even when NATS is unreachable: the
// connection is retried in the background, local service goes on, and
// messages published meanwhile wait in the reconnect buffer.
func Connect(url string, opts *Options) (*Backplane, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Prefix == "" {
		o.Prefix = "lws"
	}
	if o.Instance == "" {
		var r [8]byte
		_, _ = rand.Read(r[:])
		o.Instance = hex.EncodeToString(r[:])
	}
	if len(o.Instance) > 255 {
		return nil, errors.New("backplane: instance id longer than 255 bytes")
	}
	orDefault(&o.ReconnectWait, 250*time.Millisecond)
	var r [6]byte
	_, _ = rand.Read(r[:])
	b := &Backplane{id: o.Instance, prefix: escapeToken(o.Prefix), sender: hex.EncodeToString(r[:]), reconnectWait: o.ReconnectWait}
	nopts := []nats.Option{
		nats.Name("lws-backplane " + o.Instance),
		nats.NoEcho(), // our own messages are not sent back to us at all
		nats.MaxReconnects(-1),
		nats.ReconnectWait(o.ReconnectWait),
		nats.RetryOnFailedConnect(true),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if nc.IsClosed() {
				return // Close, not an outage
			}
			logging.Warnf("backplane %s: NATS disconnected (%v): local delivery only until it is back", b.id, err)
			for _, s := range b.streamList() {
				s.disconnected()
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			logging.Noticef("backplane %s: NATS reconnected to %s", b.id, nc.ConnectedUrl())
			for _, s := range b.streamList() {
				s.reconnected()
			}
		}),
		nats.ConnectHandler(func(nc *nats.Conn) { // the first connection, when NATS was down at Connect
			for _, s := range b.streamList() {
				s.reconnected()
			}
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subj := ""
			if sub != nil {
				subj = sub.Subject
			}
			logging.Warnf("backplane %s: NATS %s: %v", b.id, subj, err)
		}),
	}
	if o.ReconnectBuffer != 0 {
		nopts = append(nopts, nats.ReconnectBufSize(o.ReconnectBuffer))
	}
	nc, err := nats.Connect(url, append(nopts, o.NATS...)...)
	if err != nil {
		return nil, err
	}
	b.nc = nc
	return b, nil
}

// Instance is this server's id in the group.
func (b *Backplane) Instance() string { return b.id }

// Conn is the NATS connection, for its status and statistics.
func (b *Backplane) Conn() *nats.Conn { return b.nc }

// Stats returns the counters.
func (b *Backplane) Stats() Stats {
	return Stats{
		Published:     b.stats.published.Load(),
		PublishErrors: b.stats.publishErrors.Load(),
		Received:      b.stats.received.Load(),
		Own:           b.stats.own.Load(),
		Malformed:     b.stats.bad.Load(),
	}
}

// Flush waits until NATS has every message published so far, or timeout.
func (b *Backplane) Flush(timeout time.Duration) error { return b.nc.FlushTimeout(timeout) }

func (b *Backplane) streamList() []*Stream {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]*Stream(nil), b.streams...)
}

// closeTimeout bounds how long Close waits for the streams to
// acknowledge the messages buffered for them.
const closeTimeout = 5 * time.Second

// Close leaves the group: it waits (up to 5s) for the streams to
// acknowledge their buffered messages, sends what is buffered for
// topics (Drain) and closes the NATS connection. Deliveries stop.
func (b *Backplane) Close() error {
	for _, s := range b.streamList() {
		s.close(closeTimeout)
	}
	err := b.nc.Drain()
	if errors.Is(err, nats.ErrConnectionReconnecting) || errors.Is(err, nats.ErrConnectionClosed) {
		b.nc.Close()
		return nil
	}
	return err
}

// Topic is one subject of the group: what one server publishes on it is
// delivered to the subscriber of every other server, in publish order.
type Topic struct {
	b       *Backplane
	subject string
	sub     *nats.Subscription
}

// Topic returns the topic name of the group (name may be any string, a
// protocol name for instance). It publishes at once; deliveries start
// with Subscribe.
func (b *Backplane) Topic(name string) *Topic {
	return &Topic{b: b, subject: b.prefix + "." + escapeToken(name)}
}

// Subject is the topic's NATS subject.
func (t *Topic) Subject() string { return t.subject }

// Publish sends data, labelled with key (a sub-channel: the mirror
// instance, for example), to the other servers. It does not wait for
// the network: nats.go writes it from its own goroutine. While NATS is
// unreachable it is kept in the reconnect buffer; when that is full
// Publish returns nats.ErrReconnectBufExceeded and the message is lost
// to the other servers. data may be reused once Publish returns.
func (t *Topic) Publish(key string, data []byte) error {
	if err := t.b.nc.Publish(t.subject, t.b.envelope(key, data)); err != nil {
		t.b.stats.publishErrors.Add(1)
		return err
	}
	t.b.stats.published.Add(1)
	return nil
}

// Subscribe starts delivering the messages other servers publish on the
// topic: deliver is called on one goroutine, in the order each sender
// published; it may keep data. Subscribe once per topic.
func (t *Topic) Subscribe(deliver func(key string, data []byte)) error {
	b := t.b
	sub, err := b.nc.Subscribe(t.subject, func(m *nats.Msg) {
		from, key, data, ok := openEnvelope(m.Data)
		switch {
		case !ok:
			b.stats.bad.Add(1)
			return
		case from == b.id:
			b.stats.own.Add(1)
			return
		}
		b.stats.received.Add(1)
		deliver(key, data)
	})
	if err != nil {
		return err
	}
	// A fast sender must not make the subscription drop messages because
	// the local side is briefly slower: the pending limit is generous
	// and the loops' send queues apply the backpressure.
	_ = sub.SetPendingLimits(1<<20, 256<<20)
	t.sub = sub
	b.mu.Lock()
	b.topics = append(b.topics, t)
	b.mu.Unlock()
	return nil
}

// Dropped is how many messages NATS dropped for this topic's subscriber
// because deliver fell too far behind (a slow consumer).
func (t *Topic) Dropped() uint64 {
	if t.sub == nil {
		return 0
	}
	n, _ := t.sub.Dropped()
	return uint64(n)
}

// The envelope of a message: the sender's instance id and the key, each
// behind a length, then the data.
//
//	[1 byte len(from)] from [uvarint len(key)] key data
func (b *Backplane) envelope(key string, data []byte) []byte {
	buf := make([]byte, 0, 1+len(b.id)+binary.MaxVarintLen32+len(key)+len(data))
	buf = append(buf, byte(len(b.id)))
	buf = append(buf, b.id...)
	buf = binary.AppendUvarint(buf, uint64(len(key)))
	buf = append(buf, key...)
	return append(buf, data...)
}

func openEnvelope(m []byte) (from, key string, data []byte, ok bool) {
	if len(m) < 1 || len(m) < 1+int(m[0]) {
		return "", "", nil, false
	}
	from, m = string(m[1:1+int(m[0])]), m[1+int(m[0]):]
	n, w := binary.Uvarint(m)
	if w <= 0 || n > uint64(len(m)-w) {
		return "", "", nil, false
	}
	return from, string(m[w : w+int(n)]), m[w+int(n):], true
}

// escapeToken makes s one valid subject token: letters, digits, '-' and
// '_' stay, every other byte becomes %XX ("" becomes "%").
func escapeToken(s string) string {
	if s == "" {
		return "%"
	}
	const hexd = "0123456789ABCDEF"
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' {
			out = append(out, c)
			continue
		}
		out = append(out, '%', hexd[c>>4], hexd[c&15])
	}
	return string(out)
}
