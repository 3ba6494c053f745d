//go:build linux

package lws_test

// The stress test's model of what was sent: every message is derived from
// its sender and sequence number, so the receiver can tell, from the bytes
// alone, whether a message is whole, in order, unseen before and of the
// type it was sent with.
//
// A message of at least stressHeaderSize bytes starts with an ASCII
// header, "#" then the sender, the sequence number and the length in hex
// and a ".", and goes on with a slice of a shared block: random bytes for
// binary messages, valid UTF-8 of one- to four-byte characters for text.
// Which slice, the type and the length all follow from (scenario seed,
// sender, sequence number). Shorter messages carry no header: only a
// connection's writer sends them, and the receiver knows which message of
// that writer comes next.

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"unicode/utf8"
)

const (
	stressHeaderSize = 24      // "#" + 6 + 8 + 8 hex digits + "."
	stressMaxMessage = 1 << 20 // the largest message sent
	stressBlockSize  = 3 << 20 // the shared blocks message bodies are cut from
)

// stressBlocks are the bodies' source: binary is random bytes, text is
// valid UTF-8 (with its character starts) mixing one- to four-byte
// characters, so a fragment or read boundary often falls inside one.
var stressBlocks = sync.OnceValue(func() (b struct{ binary, text []byte }) {
	r := rand.New(rand.NewPCG(1, 2))
	b.binary = make([]byte, stressBlockSize)
	for i := 0; i < len(b.binary); i += 8 {
		v := r.Uint64()
		for k := 0; k < 8 && i+k < len(b.binary); k++ {
			b.binary[i+k] = byte(v >> (8 * k))
		}
	}
	runes := []rune("abcdefghijklmnopqrstuvwxyz0123456789 éßñøçü€中語ℵ😀𝄞🎉")
	b.text = make([]byte, 0, stressBlockSize+4)
	for len(b.text) < stressBlockSize {
		b.text = utf8.AppendRune(b.text, runes[r.IntN(len(runes))])
	}
	return b
})

// mix hashes its arguments into 64 well-mixed bits (splitmix64 steps).
func mix(vs ...uint64) uint64 {
	h := uint64(0x9e3779b97f4a7c15)
	for _, v := range vs {
		h ^= v
		h += 0x9e3779b97f4a7c15
		h = (h ^ h>>30) * 0xbf58476d1ce4e5b9
		h = (h ^ h>>27) * 0x94d049bb133111eb
		h ^= h >> 31
	}
	return h
}

// msgPlan is what message seq of a sender is: its type and length.
type msgPlan struct {
	binary bool
	size   int
}

// planMessage draws message seq of sender: mostly small messages, some
// large up to maxSize. Senders other than a writer (minSize =
// stressHeaderSize) never send a message too short for the header.
func planMessage(seed int64, sender, seq uint32, minSize, maxSize int) msgPlan {
	h := mix(uint64(seed), uint64(sender), uint64(seq))
	p := msgPlan{binary: h&1 == 1}
	h >>= 1
	u := int(h % 1000)
	h /= 1000
	var lo, hi int
	switch {
	case u < 250:
		lo, hi = 0, stressHeaderSize
	case u < 600:
		lo, hi = stressHeaderSize, 512
	case u < 830:
		lo, hi = 512, 8<<10
	case u < 950:
		lo, hi = 8<<10, 64<<10
	case u < 990:
		lo, hi = 64<<10, 256<<10
	default:
		lo, hi = 256<<10, stressMaxMessage+1
	}
	lo, hi = max(lo, minSize), min(max(hi, minSize+1), maxSize+1)
	if lo >= hi {
		lo = hi - 1
	}
	p.size = lo + int(h%uint64(hi-lo))
	return p
}

// body is the part of message (sender, seq) after its header, size bytes
// long: a slice of the shared block, starting and ending on character
// starts for text.
func body(binary bool, sender, seq uint32, size int) []byte {
	blocks := stressBlocks()
	block := blocks.text
	if binary {
		block = blocks.binary
	}
	off := int(mix(uint64(sender), uint64(seq), 7) % uint64(stressBlockSize-size))
	if !binary {
		for !utf8.RuneStart(block[off]) || !utf8.RuneStart(block[off+size]) {
			off++
		}
	}
	return block[off : off+size]
}

// bodySize is the size of a message's body: all of it when it is too short
// for a header.
func bodySize(size int) int {
	if size < stressHeaderSize {
		return size
	}
	return size - stressHeaderSize
}

// makeMessage builds message seq of sender as planned.
func makeMessage(p msgPlan, sender, seq uint32) []byte {
	b := body(p.binary, sender, seq, bodySize(p.size))
	if p.size < stressHeaderSize {
		return append([]byte(nil), b...)
	}
	m := make([]byte, 0, p.size)
	m = fmt.Appendf(m, "#%06x%08x%08x.", sender, seq, p.size)
	return append(m, b...)
}

// parseHeader reads a message's header.
func parseHeader(m []byte) (sender, seq uint32, size int, err error) {
	if len(m) < stressHeaderSize || m[0] != '#' || m[stressHeaderSize-1] != '.' {
		return 0, 0, 0, fmt.Errorf("%d-byte message without a header: starts %q", len(m), prefix(m))
	}
	s, err1 := strconv.ParseUint(string(m[1:7]), 16, 32)
	q, err2 := strconv.ParseUint(string(m[7:15]), 16, 32)
	n, err3 := strconv.ParseUint(string(m[15:23]), 16, 32)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, 0, fmt.Errorf("%d-byte message with a garbled header %q", len(m), prefix(m))
	}
	return uint32(s), uint32(q), int(n), nil
}

// checkBody reports how message m differs from message seq of sender.
func checkBody(m []byte, p msgPlan, binary bool, sender, seq uint32) error {
	if len(m) != p.size {
		return fmt.Errorf("message %d of sender %d: %d bytes, sent %d", seq, sender, len(m), p.size)
	}
	if binary != p.binary {
		return fmt.Errorf("message %d of sender %d: arrived as %s, sent as %s", seq, sender, typeName(binary), typeName(p.binary))
	}
	got := m
	if p.size >= stressHeaderSize {
		got = m[stressHeaderSize:]
	}
	want := body(p.binary, sender, seq, len(got))
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && got[i] == want[i] {
			i++
		}
		return fmt.Errorf("message %d of sender %d (%d bytes, %s): body differs from byte %d of %d: %q, want %q",
			seq, sender, p.size, typeName(p.binary), i, len(got), prefix(got[i:]), prefix(want[i:]))
	}
	return nil
}

func typeName(binary bool) string {
	if binary {
		return "binary"
	}
	return "text"
}

func prefix(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}

// senderKind is who sends a sender's messages, and how.
type senderKind uint8

const (
	kindWriter    senderKind = iota // a connection's own writer: Conn.Write with fragments, a raw peer, a Dial goroutine
	kindSend                        // a goroutine calling Conn.Send
	kindPost                        // a goroutine posting Conn.Write calls with Conn.Post
	kindDial                        // a goroutine calling ClientConn.WriteMessage
	kindBroadcast                   // a goroutine calling Service.Broadcast
)

func (k senderKind) String() string {
	return [...]string{"writer", "Send", "Post", "WriteMessage", "Broadcast"}[k]
}

// sender is one ordered stream of messages. Messages of a connection's
// senders go to its peer; a broadcaster's go to every connection of the
// stress protocol on its service, and from there to their peers.
type sender struct {
	id      uint32
	kind    senderKind
	from    *end // the connection end that sends (nil for a broadcaster)
	side    int  // a broadcaster's service: sideServer or sideClient
	minSize int
	total   int // messages to send

	sent int64 // messages accepted (atomic through the methods)
	mu   sync.Mutex
}

func (s *sender) plan(sc *scenario, seq uint32) msgPlan {
	return planMessage(sc.seed, s.id, seq, s.minSize, sc.p.maxSize)
}

func (s *sender) accepted() {
	s.mu.Lock()
	s.sent++
	s.mu.Unlock()
}

func (s *sender) count() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent
}

func (s *sender) String() string {
	if s.from == nil {
		return fmt.Sprintf("sender %d (%v on the %s service)", s.id, s.kind, sideName(s.side))
	}
	return fmt.Sprintf("sender %d (%v of %v)", s.id, s.kind, s.from)
}

// rxCheck is the oracle of one connection end's input: it checks every
// message as it arrives and keeps what the final check needs.
type rxCheck struct {
	sc *scenario
	e  *end

	mu        sync.Mutex
	next      map[uint32]uint32 // per connection sender: the next sequence number due
	lastBcast map[uint32]int64  // per broadcaster: the last sequence number received
	gotBcast  map[uint32]int64  // per broadcaster: messages received
	lastEcho  map[uint32]int64  // per own sender: the last sequence number echoed back
	gotEcho   map[uint32]int64  // per own sender: echoes received
	foreign   map[uint32]int64  // per foreign sender: messages with a header received (what an echoing end echoes)
	msgs      int64
	bytes     int64
}

func newRxCheck(sc *scenario, e *end) *rxCheck {
	return &rxCheck{sc: sc, e: e, next: map[uint32]uint32{}, lastBcast: map[uint32]int64{}, gotBcast: map[uint32]int64{},
		lastEcho: map[uint32]int64{}, gotEcho: map[uint32]int64{}, foreign: map[uint32]int64{}}
}

// receive checks one whole message. echo reports whether it has a header
// and came from the peer's side (what an echoing end sends back).
func (r *rxCheck) receive(binary bool, m []byte) (echo bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs++
	r.bytes += int64(len(m))
	if len(m) < stressHeaderSize {
		w := r.e.peer.writer
		if w == nil {
			return false, fmt.Errorf("%d-byte message %q, and the peer has no writer to send one without a header", len(m), m)
		}
		seq := r.next[w.id]
		p := w.plan(r.sc, seq)
		if p.size >= stressHeaderSize {
			return false, fmt.Errorf("%d-byte message %q where message %d of %v (%d bytes) is due", len(m), m, seq, w, p.size)
		}
		if err := checkBody(m, p, binary, w.id, seq); err != nil {
			return false, err
		}
		r.next[w.id] = seq + 1
		return false, nil
	}
	id, seq, size, err := parseHeader(m)
	if err != nil {
		return false, err
	}
	s := r.sc.senders[id]
	if s == nil || size != len(m) {
		return false, fmt.Errorf("message %d from unknown sender %d, header says %d bytes, has %d", seq, id, size, len(m))
	}
	if err := checkBody(m, s.plan(r.sc, seq), binary, id, seq); err != nil {
		return false, err
	}
	own := s.from == r.e || s.kind == kindBroadcast && s.side == r.e.side && r.e.receivesBroadcasts(s)
	switch {
	case own: // our own message, echoed by the peer
		if !r.e.peer.echo {
			return false, fmt.Errorf("message %d of %v came back from a peer that does not echo", seq, s)
		}
		last, ok := r.lastEcho[id]
		if ok && int64(seq) <= last {
			return false, fmt.Errorf("echo of message %d of %v after the echo of message %d", seq, s, last)
		}
		r.lastEcho[id] = int64(seq)
		r.gotEcho[id]++
		return false, nil
	case s.kind == kindBroadcast:
		if !r.e.peer.receivesBroadcasts(s) {
			return false, fmt.Errorf("broadcast message %d of %v reached the peer of %v", seq, s, r.e)
		}
		last, ok := r.lastBcast[id]
		if ok && int64(seq) <= last {
			return false, fmt.Errorf("broadcast message %d of %v after message %d (duplicated or reordered)", seq, s, last)
		}
		r.lastBcast[id] = int64(seq)
		r.gotBcast[id]++
	case s.from == r.e.peer:
		if want := r.next[id]; seq != want {
			return false, fmt.Errorf("message %d of %v where message %d is due (lost, duplicated or reordered)", seq, s, want)
		}
		r.next[id] = seq + 1
	default:
		return false, fmt.Errorf("message %d of %v, which does not send to %v", seq, s, r.e)
	}
	r.foreign[id]++
	return true, nil
}

// shortfall says what this end still lacks of what was sent to it, ""
// once everything arrived (or was dropped, as its peer's Conn.Dropped
// accounts). It is final only once every sender has finished.
func (r *rxCheck) shortfall() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	peer := r.e.peer
	for _, s := range peer.senders() {
		if got, sent := int64(r.next[s.id]), s.count(); got != sent {
			return fmt.Sprintf("%d of %d messages of %v", got, sent, s)
		}
	}
	if bs := r.sc.broadcasters[peer.side]; len(bs) > 0 && peer.receivesBroadcasts(bs[0]) {
		var missing int64
		for _, b := range bs {
			missing += b.count() - r.gotBcast[b.id]
		}
		if dropped := peer.broadcastDrops(); missing != dropped {
			return fmt.Sprintf("%d broadcast messages missing, %d dropped by the peer's send queue", missing, dropped)
		}
	}
	if peer.echo {
		pr := peer.rx
		pr.mu.Lock()
		defer pr.mu.Unlock()
		for _, s := range r.e.senders() {
			if got, want := r.gotEcho[s.id], pr.foreign[s.id]; got != want {
				return fmt.Sprintf("%d echoes of %d messages of %v", got, want, s)
			}
		}
		for _, b := range r.sc.broadcasters[r.e.side] {
			if !r.e.receivesBroadcasts(b) {
				break
			}
			if got, want := r.gotEcho[b.id], pr.foreign[b.id]; got != want {
				return fmt.Sprintf("%d echoes of %d messages of %v", got, want, b)
			}
		}
	}
	return ""
}

// counts returns the messages and bytes checked.
func (r *rxCheck) counts() (msgs, bytes int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.msgs, r.bytes
}
