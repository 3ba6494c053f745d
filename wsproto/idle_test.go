package wsproto

import "testing"

// TestParserIdle checks that Idle is true exactly between whole frames
// outside a message, and false after a failure.
func TestParserIdle(t *testing.T) {
	var p Parser
	p.Init(ParserConfig{Role: RoleClient})
	if !p.Idle() {
		t.Fatal("new parser not idle")
	}
	steps := []struct {
		in   string
		idle bool
		what string
	}{
		{"81", false, "partial header"},
		{"03 61", false, "partial data frame"},
		{"6262", true, "whole message"},
		{"0101 61", false, "first fragment"},
		{"8901 78", false, "ping between fragments"},
		{"8001 62", true, "last fragment"},
		{"8902 78", false, "partial ping"},
		{"79", true, "whole ping"},
		{"8300", false, "reserved opcode: failed"},
	}
	for _, s := range steps {
		b := unhex(t, s.in)
		for len(b) > 0 {
			ev, n, err := p.Next(b)
			if err != nil || ev.Type == EventNone {
				break
			}
			b = b[n:]
		}
		if p.Idle() != s.idle {
			t.Errorf("after %s (%s): Idle() = %v, want %v", s.in, s.what, p.Idle(), s.idle)
		}
	}
}
