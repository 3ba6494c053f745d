//go:build lwsfault

package lws_test

import (
	"testing"
	"time"

	"github.com/lws-go/lws/internal/sockio"
)

// TestFaultHTTPModel: the HTTP model test (http_model_test.go) with the
// server's socket calls cut short, refused with EAGAIN or interrupted at
// random: the same answers must come back whole and in order.
func TestFaultHTTPModel(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	before := sockio.InjectedFaults()
	if err := sockio.SetFaults(sockio.Faults{Seed: int64(seed), ShortRead: 0.2, ShortWrite: 0.2, EAGAIN: 0.1, EINTR: 0.05}); err != nil {
		t.Fatal(err)
	}
	defer sockio.SetFaults(sockio.Faults{})
	runHTTPModel(t, seed, 6)
	t.Logf("faults: %v", sockio.InjectedFaults().Sub(before))
}
