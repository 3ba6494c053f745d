package wsjson

import (
	"testing"
)

// TestEncodeAllocatesNothingOfItsOwn: once the pool is warm, encoding a
// value that encoding/json encodes without allocating (a struct of
// numbers and strings, by pointer) allocates nothing: the message buffer
// comes from the pool. (sync.Pool drops items at random under the race
// detector, so the count is checked in the non-race pass.)
func TestEncodeAllocatesNothingOfItsOwn(t *testing.T) {
	v := &struct {
		Kind string `json:"kind"`
		N    int    `json:"n"`
	}{"tick", 42}
	var got string
	send := func(b []byte) error { got = string(b); return nil }
	if err := encode(v, send); err != nil || got != `{"kind":"tick","n":42}` {
		t.Fatalf("encode: %q, %v", got, err)
	}
	if raceEnabled {
		return
	}
	noop := func([]byte) error { return nil }
	if a := testing.AllocsPerRun(1000, func() { encode(v, noop) }); a != 0 {
		t.Errorf("encode allocates %v times per value, want 0", a)
	}
}
