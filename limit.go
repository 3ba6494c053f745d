package lws

import (
	"github.com/lws-go/lws/evloop"
	"github.com/lws-go/lws/logging"
)

// spareFDs is how many descriptors are kept free below RLIMIT_NOFILE when
// the service is at its connection limit: one, so that a connection over
// the limit can still be accepted and closed at once (the peer sees the
// refusal straight away) instead of accept failing with EMFILE and leaving
// it waiting in the backlog.
const spareFDs = 1

// sizeTable reads RLIMIT_NOFILE and the open fds; a variable so that a test
// can pose a limit the kernel would not grant (such as 1e9).
var sizeTable = evloop.SizeTable

// setConnLimit fixes how many connections the service admits (the seed's
// "maximum number of connections"), once the loops and the listener have
// taken their own descriptors: the soft RLIMIT_NOFILE (or the table size,
// when that is smaller) less every fd open now less spareFDs, capped by
// Config.MaxConns. It logs the limit and the table's memory at NOTICE for
// a listening service, at INFO for a client-only one (such as the service
// behind Dial, started and closed with the connections of a program).
func (s *Service) setConnLimit(atStart evloop.Sizing) {
	sz := atStart
	if now, err := sizeTable(s.cfg.MaxConns); err == nil {
		sz = now
	}
	conns := sz.MaxConns
	// Connections get the lowest free fds, and the table covers fds below
	// its size only.
	if room := min(int64(sz.Soft), int64(s.table.Size())) - int64(sz.Open) - spareFDs; room < int64(conns) {
		conns = int(max(room, 0))
	}
	s.maxConns = conns
	level := logging.Notice
	if s.cfg.Addr == "" {
		level = logging.Info
	}
	logging.Logf(level, "connection table: %d slots, %d bytes; up to %d connections (RLIMIT_NOFILE soft limit %d, %d fds in use)",
		s.table.Size(), s.table.MemoryBytes(), conns, sz.Soft, sz.Open)
}
