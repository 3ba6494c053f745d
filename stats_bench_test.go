package lws

import (
	"testing"

	"github.com/lws-go/lws/wsproto"
)

// BenchmarkStatsSent is the counting cost of one data frame sent (two
// uncontended atomic adds on the loop's own counters); the echo and
// broadcast benchmarks show it against a whole message's handling.
func BenchmarkStatsSent(b *testing.B) {
	var s loopStats
	for b.Loop() {
		s.sent(wsproto.OpBinary, true, 64)
	}
}
