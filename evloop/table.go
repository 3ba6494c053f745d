package evloop

import (
	"math"
	"sync"
	"sync/atomic"
	"unsafe"
)

// DefaultTableCap is the most slots SizeTable gives, whatever the rlimit:
// a soft limit of 1e9 must not allocate gigabytes.
const DefaultTableCap = 1 << 20

// Sizing is how a service sizes its connection table from RLIMIT_NOFILE
// (the seed's "Maximum number of connections").
type Sizing struct {
	// Soft is the soft RLIMIT_NOFILE.
	Soft uint64
	// Open is the number of fds already open at start.
	Open int
	// TableSize is the number of slots: the table is indexed by fd, so it
	// covers every fd number below the soft limit, capped at
	// DefaultTableCap.
	TableSize int
	// MaxConns is how many connections fit: the soft limit minus the fds
	// already in use, capped by the caller's max (when > 0) and by
	// TableSize.
	MaxConns int
}

// SizeTableFor is SizeTable for a given soft limit and count of open fds.
func SizeTableFor(max int, soft uint64, open int) Sizing {
	open = min(max0(open), math.MaxInt32)
	table := min(soft, DefaultTableCap)
	conns := uint64(0)
	if soft > uint64(open) {
		conns = soft - uint64(open)
	}
	conns = min(conns, table)
	if max > 0 {
		conns = min(conns, uint64(max))
	}
	return Sizing{Soft: soft, Open: open, TableSize: int(table), MaxConns: int(conns)}
}

func max0(n int) int {
	if n < 0 {
		return 0
	}
	return n
}

// slot is one fd's entry. owner is the id of the loop that registered the
// fd (0 = free); it is claimed with a CAS and released with a store, which
// orders the plain fields between loops sharing a table. h, gen and ev are
// touched only by the owner.
type slot struct {
	h     Handler
	owner atomic.Uint32
	gen   uint16 // bumped at every Add, to skip stale events in a batch
	ev    uint16 // registered interest
}

// Table is the fd-indexed slot array shared by all loops of a service. It is
// allocated once; a slot is touched only by the loop that owns its fd. On
// BackendPortable the slots are indexed by the ids AddNotified hands out
// (claimID) instead of fds.
type Table struct {
	slots []slot
	n     atomic.Int64

	idMu    sync.Mutex
	freeIDs []int32 // ids given back by freeID, reused last-in first-out (idMu)
	nextID  int     // slots below it were handed out at least once (idMu)
}

// NewTable allocates a table for fds 0..size-1.
func NewTable(size int) *Table {
	if size < 0 {
		size = 0
	}
	return &Table{slots: make([]slot, size)}
}

// Size is the number of slots: fds >= Size are refused with ErrTableFull.
func (t *Table) Size() int { return len(t.slots) }

// Len is the number of registered fds across all loops (safe from any goroutine).
func (t *Table) Len() int { return int(t.n.Load()) }

// Get returns the handler registered for fd, or nil. Call it from the loop
// goroutine that owns fd.
func (t *Table) Get(fd int) Handler {
	if fd < 0 || fd >= len(t.slots) {
		return nil
	}
	s := &t.slots[fd]
	if s.owner.Load() == 0 {
		return nil
	}
	return s.h
}

// MemoryBytes is the size of the slot array in bytes.
func (t *Table) MemoryBytes() int { return len(t.slots) * int(unsafe.Sizeof(slot{})) }

// claimID takes a free slot for a notified handler of loop owner: one given
// back last, else the next never used, else (the table is shared with fd
// loops whose slots came free) any free one.
func (t *Table) claimID(owner uint32) (int, bool) {
	t.idMu.Lock()
	defer t.idMu.Unlock()
	for len(t.freeIDs) > 0 {
		id := int(t.freeIDs[len(t.freeIDs)-1])
		t.freeIDs = t.freeIDs[:len(t.freeIDs)-1]
		if t.slots[id].owner.CompareAndSwap(0, owner) {
			return id, true
		}
	}
	for ; t.nextID < len(t.slots); t.nextID++ {
		if t.slots[t.nextID].owner.CompareAndSwap(0, owner) {
			t.nextID++
			return t.nextID - 1, true
		}
	}
	for id := range t.slots {
		if t.slots[id].owner.CompareAndSwap(0, owner) {
			return id, true
		}
	}
	return 0, false
}

// freeID gives back an id whose slot its loop released.
func (t *Table) freeID(id int) {
	t.idMu.Lock()
	t.freeIDs = append(t.freeIDs, int32(id))
	t.idMu.Unlock()
}
