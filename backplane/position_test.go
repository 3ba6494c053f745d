package backplane

import (
	"bytes"
	"strings"
	"testing"
)

func TestPositionToken(t *testing.T) {
	for _, p := range []Position{
		{},
		{Epoch: "dnbz0chr6ufj", Offset: 1071},
		{Epoch: "k", Offset: 0, Ahead: []Seen{{"0ae7c4388851", 27}, {"3958bcdb9b79", 1}}},
	} {
		tok := p.String()
		q, err := ParsePosition(tok)
		if err != nil || q.String() != tok || q.Epoch != p.Epoch || q.Offset != p.Offset || len(q.Ahead) != len(p.Ahead) {
			t.Errorf("%+v -> %q -> %+v, %v", p, tok, q, err)
		}
	}
	if tok := (Position{}).String(); tok != "0.0" {
		t.Errorf("the unknown position is %q, want 0.0", tok)
	}
	many := "e.1" + strings.Repeat("~a.1", MaxAhead+1)
	for _, bad := range []string{"", ".", "e.", ".1", "E.1", "e.-1", "e.+1", "e.1~", "e.1~a", "e.1~a.0", "e.1~a.1~a.2", "e.x", "e.1.2", many, strings.Repeat("1", maxToken+1) + ".1"} {
		if p, err := ParsePosition(bad); err == nil {
			t.Errorf("%q accepted as %+v", bad, p)
		}
	}
}

// TestPositionAdvance: a message counts as read by offset or by its
// sender's entry in Ahead; a sequenced message of a sender ends its
// entry once the stream has caught up with it.
func TestPositionAdvance(t *testing.T) {
	p := Position{Epoch: "e", Offset: 10}
	if !p.covers(10, "a", 1) || p.covers(11, "a", 1) || p.covers(0, "a", 1) {
		t.Fatalf("covers by offset wrong")
	}
	p.advance(0, "a", 5) // a's message 5 delivered ahead of the stream
	if !p.covers(0, "a", 5) || !p.covers(12, "a", 3) || p.covers(12, "a", 6) || p.String() != "e.10~a.5" {
		t.Fatalf("after a.5 ahead: %v", p)
	}
	p.advance(11, "b", 1)
	p.advance(12, "a", 4) // the stream has caught up to a's 4: the entry stays
	if p.String() != "e.12~a.5" {
		t.Fatalf("after a.4 at 12: %v", p)
	}
	q := p // positions are values: advancing one leaves a copy alone
	p.advance(13, "a", 5)
	if p.String() != "e.13" || q.String() != "e.12~a.5" {
		t.Fatalf("after a.5 at 13: %v (copy %v)", p, q)
	}
	for i := 0; i <= MaxAhead; i++ {
		p.advance(0, string(rune('a'+i)), 1)
	}
	if len(p.Ahead) != MaxAhead {
		t.Fatalf("%d senders ahead, want at most %d", len(p.Ahead), MaxAhead)
	}
	if _, err := ParsePosition(p.String()); err != nil {
		t.Fatalf("a full position does not parse: %v", err)
	}
}

func TestStreamEnvelope(t *testing.T) {
	m := streamEnvelope(7, "key", []byte("data"))
	seq, key, data, ok := openStreamEnvelope(m)
	if !ok || seq != 7 || key != "key" || !bytes.Equal(data, []byte("data")) {
		t.Fatalf("got %d %q %q %v", seq, key, data, ok)
	}
	for n := 0; n < 1+1+len("key"); n++ {
		if _, _, _, ok := openStreamEnvelope(m[:n]); ok {
			t.Errorf("truncated to %d bytes: accepted", n)
		}
	}
	if _, _, _, ok := openStreamEnvelope(streamEnvelope(0, "", nil)); ok {
		t.Errorf("number 0 accepted")
	}
}

func TestParseEvent(t *testing.T) {
	for in, want := range map[string]Event{
		"!at e.1":                          {Kind: At, Position: "e.1"},
		"!recovered":                       {Kind: Recovered},
		"!not-recovered e.5 epoch changed": {Kind: NotRecovered, Position: "e.5", Reason: "epoch changed"},
		"!gap e.9~a.2 3 messages lost":     {Kind: Gap, Position: "e.9~a.2", Reason: "3 messages lost"},
		"e.2 d #000 1 2 3 4;":              {Kind: Message, Position: "e.2", Data: []byte("d #000 1 2 3 4;")},
	} {
		ev, err := ParseEvent([]byte(in), false)
		if err != nil || ev.Kind != want.Kind || ev.Position != want.Position || ev.Reason != want.Reason || !bytes.Equal(ev.Data, want.Data) {
			t.Errorf("%q: %+v, %v; want %+v", in, ev, err, want)
		}
	}
	for _, bad := range []string{"", "nospace", " leading", "!unknown x"} {
		if ev, err := ParseEvent([]byte(bad), false); err == nil {
			t.Errorf("%q accepted as %+v", bad, ev)
		}
	}
}
