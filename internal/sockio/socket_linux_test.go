//go:build unix

package sockio

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// TestAcceptNoAllocations: on Linux an accept, address included, allocates
// nothing.
func TestAcceptNoAllocations(t *testing.T) {
	const runs = 20
	lfd, local := listenLoopback(t, netip.MustParseAddrPort("127.0.0.1:0"), false)
	clients := make(map[netip.AddrPort]bool)
	for range runs + 1 { // AllocsPerRun calls once more to warm up
		clients[localAddr(t, connect(t, local))] = true
	}
	var buf AddrBuf
	accepted := 0
	allocs := testing.AllocsPerRun(runs, func() {
		fd, peer, err := Accept(lfd, &buf)
		if err != nil {
			return
		}
		unix.Close(fd)
		if clients[peer] {
			accepted++
		}
	})
	if accepted != runs+1 {
		t.Fatalf("accepted %d of the %d clients", accepted, runs+1)
	}
	if allocs != 0 {
		t.Fatalf("%v allocations per accept", allocs)
	}
}
