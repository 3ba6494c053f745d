package backplane

import (
	"errors"
	"strconv"
	"strings"
)

// Position is how far a client of a Stream has read: everything the
// stream holds up to Offset in epoch Epoch, and the messages of Ahead.
// Ahead lists, per sender, the last message delivered to the client
// before the stream had sequenced it (a server delivers its own messages
// at once while NATS is unreachable): a message of Sender numbered Seq or
// lower counts as read wherever it appears later in the stream. Ahead is
// empty while NATS is reachable.
//
// A client presents its position as one token, String's form:
//
//	<epoch>.<offset>[~<sender>.<seq>]...
//
// epoch a base-36 number, offset and seq decimal, sender a hex id; at
// most MaxAhead senders. "0.0" is the position of a client that has read
// nothing in an unknown epoch.
type Position struct {
	Epoch  string
	Offset uint64
	Ahead  []Seen
}

// Seen is the last message of one sender a client got ahead of the
// stream.
type Seen struct {
	Sender string
	Seq    uint64
}

// MaxAhead bounds Position.Ahead: a token with more senders is refused.
const MaxAhead = 8

// maxToken bounds a position token's length.
const maxToken = 512

// String is the position's token.
func (p Position) String() string {
	b := make([]byte, 0, 32+len(p.Ahead)*24)
	b = p.appendTo(b)
	return string(b)
}

func (p Position) appendTo(b []byte) []byte {
	if p.Epoch == "" {
		b = append(b, '0')
	} else {
		b = append(b, p.Epoch...)
	}
	b = append(b, '.')
	b = strconv.AppendUint(b, p.Offset, 10)
	for _, s := range p.Ahead {
		b = append(b, '~')
		b = append(b, s.Sender...)
		b = append(b, '.')
		b = strconv.AppendUint(b, s.Seq, 10)
	}
	return b
}

var errBadPosition = errors.New("backplane: malformed position token")

// ParsePosition reads a token made by Position.String.
func ParsePosition(tok string) (Position, error) {
	if len(tok) > maxToken {
		return Position{}, errBadPosition
	}
	parts := strings.Split(tok, "~")
	if len(parts)-1 > MaxAhead {
		return Position{}, errBadPosition
	}
	epoch, off, ok := splitPair(parts[0])
	if !ok || !isLowerAlnum(epoch) {
		return Position{}, errBadPosition
	}
	p := Position{Epoch: epoch, Offset: off}
	if epoch == "0" {
		p.Epoch = ""
	}
	for _, part := range parts[1:] {
		sender, seq, ok := splitPair(part)
		if !ok || !isLowerAlnum(sender) || seq == 0 {
			return Position{}, errBadPosition
		}
		for _, s := range p.Ahead {
			if s.Sender == sender {
				return Position{}, errBadPosition
			}
		}
		p.Ahead = append(p.Ahead, Seen{Sender: sender, Seq: seq})
	}
	return p, nil
}

// splitPair splits "<word>.<decimal>".
func splitPair(s string) (string, uint64, bool) {
	word, num, ok := strings.Cut(s, ".")
	if !ok || word == "" || num == "" || num[0] == '+' {
		return "", 0, false
	}
	n, err := strconv.ParseUint(num, 10, 64)
	return word, n, err == nil
}

func isLowerAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return s != ""
}

// seen is the last message of sender covered by Ahead (0: none).
func (p *Position) seen(sender string) uint64 {
	for _, s := range p.Ahead {
		if s.Sender == sender {
			return s.Seq
		}
	}
	return 0
}

// covers reports whether a message (offset 0: not sequenced yet) counts
// as read.
func (p *Position) covers(offset uint64, sender string, seq uint64) bool {
	return offset != 0 && offset <= p.Offset || seq <= p.seen(sender)
}

// advance moves the position past a message: a sequenced one moves the
// offset and ends the sender's entry in Ahead once the stream has caught
// up with it; one not sequenced yet goes into Ahead.
func (p *Position) advance(offset uint64, sender string, seq uint64) {
	i := 0
	for i < len(p.Ahead) && p.Ahead[i].Sender != sender {
		i++
	}
	if offset != 0 {
		if offset > p.Offset {
			p.Offset = offset
		}
		if i < len(p.Ahead) && p.Ahead[i].Seq <= seq {
			p.Ahead = append(p.Ahead[:i:i], p.Ahead[i+1:]...)
		}
		return
	}
	if i < len(p.Ahead) {
		if seq > p.Ahead[i].Seq {
			p.Ahead[i].Seq = seq
		}
		return
	}
	keep := p.Ahead
	if len(keep) == MaxAhead {
		keep = keep[1:] // the oldest goes: a message of it may come twice
	}
	p.Ahead = append(keep[:len(keep):len(keep)], Seen{Sender: sender, Seq: seq})
}

// forget drops sender's entry from Ahead: every message of it the entry
// covered is at or before Offset.
func (p *Position) forget(sender string) {
	for i, s := range p.Ahead {
		if s.Sender == sender {
			p.Ahead = append(p.Ahead[:i:i], p.Ahead[i+1:]...)
			return
		}
	}
}
