//go:build unix

package evloop

import "testing"

func TestOpenFDCount(t *testing.T) {
	if n := openFDCount(); n < 3 {
		t.Fatalf("openFDCount = %d", n)
	}
}

func TestPollConv(t *testing.T) {
	for _, ev := range []Events{0, Readable, Writable, Readable | Writable} {
		if back := PollToEvents(EventsToPoll(ev)); back != ev {
			t.Errorf("poll round trip %v -> %v", ev, back)
		}
	}
}
