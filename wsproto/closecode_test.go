package wsproto

import (
	"strings"
	"testing"
)

func TestCloseCodeValidOnWire(t *testing.T) {
	valid := map[CloseCode]bool{}
	for _, c := range []CloseCode{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014} {
		valid[c] = true
	}
	for c := 3000; c <= 4999; c++ {
		valid[CloseCode(c)] = true
	}
	for c := 0; c <= 0xFFFF; c++ {
		if got := CloseCode(c).ValidOnWire(); got != valid[CloseCode(c)] {
			t.Errorf("CloseCode(%d).ValidOnWire() = %v, want %v", c, got, valid[CloseCode(c)])
		}
	}
}

func TestCloseCodeString(t *testing.T) {
	tests := []struct {
		c    CloseCode
		want string
	}{
		{CloseNormal, "normal closure"},
		{CloseProtocolError, "protocol error"},
		{CloseNoStatus, "no status received"},
		{CloseInvalidPayload, "invalid frame payload data"},
		{CloseMessageTooBig, "message too big"},
		{CloseTLSHandshake, "TLS handshake failure"},
		{3000, "close code 3000"},
		{0, "close code 0"},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("CloseCode(%d).String() = %q, want %q", tt.c, got, tt.want)
		}
	}
	for c := CloseNormal; c <= CloseTLSHandshake; c++ {
		if c == 1004 {
			continue
		}
		if strings.HasPrefix(c.String(), "close code") {
			t.Errorf("registered CloseCode(%d) has no name", c)
		}
	}
}
