package sockio

import (
	"errors"
	"fmt"
)

// Fault injection, for tests of what is built on this package: a build
// with the lwsfault tag can make Read, Write and Writev3 on sockets move
// fewer bytes than asked, fail with EAGAIN or be interrupted (EINTR, which
// they retry) without doing anything, and reset chosen connections part way through their stream,
// as a loaded network and kernel may. The choices are drawn from a seed.
// Without the tag (production builds) none of this is compiled into the
// calls: SetFaults refuses any fault and the counts stay zero.
//
// Only sockets are touched; the loops' eventfds and pipes, which also
// use these calls, never see a fault. The portable backend's net.Conns
// get the same faults in their own terms through WrapConn.

// Faults says how often each fault is injected: each probability, from 0
// to 1, applies to every call on a socket.
type Faults struct {
	// Seed drives the draws (a sequence shared by all goroutines, so the
	// order of calls across loops decides which call gets which draw).
	Seed int64
	// ShortRead: a read asks for a random part (at least one byte) of
	// the caller's buffer.
	ShortRead float64
	// ShortWrite: a write or writev passes a random part (at least one
	// byte) of its bytes.
	ShortWrite float64
	// EAGAIN: the call fails with EAGAIN and moves nothing. Safe on a
	// level-triggered poller: the socket's readiness is reported again.
	EAGAIN float64
	// EINTR: the call is interrupted (EINTR) and moves nothing; Read,
	// Write and Writev3 retry it, so their callers never see it. Below 1,
	// as every retry draws again.
	EINTR float64
}

// FaultCounts are the faults injected since the process started.
type FaultCounts struct {
	Calls       uint64 // calls on sockets seen while injection was on
	ShortReads  uint64
	ShortWrites uint64
	EAGAINs     uint64
	EINTRs      uint64
	Resets      uint64 // connections reset by ResetAfter
}

// Sub is c less an earlier snapshot: the faults injected in between.
func (c FaultCounts) Sub(earlier FaultCounts) FaultCounts {
	return FaultCounts{
		Calls:       c.Calls - earlier.Calls,
		ShortReads:  c.ShortReads - earlier.ShortReads,
		ShortWrites: c.ShortWrites - earlier.ShortWrites,
		EAGAINs:     c.EAGAINs - earlier.EAGAINs,
		EINTRs:      c.EINTRs - earlier.EINTRs,
		Resets:      c.Resets - earlier.Resets,
	}
}

// Add is the sum of c and d.
func (c FaultCounts) Add(d FaultCounts) FaultCounts {
	return FaultCounts{
		Calls:       c.Calls + d.Calls,
		ShortReads:  c.ShortReads + d.ShortReads,
		ShortWrites: c.ShortWrites + d.ShortWrites,
		EAGAINs:     c.EAGAINs + d.EAGAINs,
		EINTRs:      c.EINTRs + d.EINTRs,
		Resets:      c.Resets + d.Resets,
	}
}

func (c FaultCounts) String() string {
	return fmt.Sprintf("%d socket calls: %d short reads, %d short writes, %d EAGAIN, %d EINTR, %d resets",
		c.Calls, c.ShortReads, c.ShortWrites, c.EAGAINs, c.EINTRs, c.Resets)
}

var errNoFaults = errors.New("sockio: fault injection needs a build with the lwsfault tag")
