package backplane

import (
	"bytes"
	"testing"
)

func TestEnvelope(t *testing.T) {
	b := &Backplane{id: "inst-1"}
	for _, c := range []struct{ key, data string }{{"", ""}, {"k", "data"}, {"mirror name é", string(make([]byte, 300))}} {
		from, key, data, ok := openEnvelope(b.envelope(c.key, []byte(c.data)))
		if !ok || from != "inst-1" || key != c.key || !bytes.Equal(data, []byte(c.data)) {
			t.Errorf("%q/%q: got %q %q %q %v", c.key, c.data, from, key, data, ok)
		}
	}
	// Truncated or foreign messages are refused, never a panic.
	m := b.envelope("key", []byte("x"))
	for n := 0; n < len(m)-1; n++ {
		if _, _, _, ok := openEnvelope(m[:n]); ok && n < 1+len("inst-1")+1+len("key") {
			t.Errorf("truncated to %d bytes: accepted", n)
		}
	}
	for _, bad := range [][]byte{nil, {5, 'a'}, {0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, {0, 9, 'a'}} {
		if _, _, _, ok := openEnvelope(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestEscapeToken(t *testing.T) {
	for in, want := range map[string]string{
		"":                    "%",
		"lws-mirror-protocol": "lws-mirror-protocol",
		"a.b c*>%":            "a%2Eb%20c%2A%3E%25",
	} {
		if got := escapeToken(in); got != want {
			t.Errorf("escapeToken(%q) = %q, want %q", in, got, want)
		}
	}
}
