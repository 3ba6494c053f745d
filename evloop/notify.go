package evloop

// Notifier is the handle of one registration made with AddNotified: the id
// its handler is known by (the fd argument of OnEvents, and what Modify,
// Events and Remove take) and the registration's serial, which keeps a
// late Notify from reaching a later registration that reuses the id. The
// zero Notifier's Notify does nothing.
type Notifier struct {
	l      *Loop
	id     int32
	serial uint64
}

// Portable reports whether the loop is of BackendPortable, whose handlers
// are registered with AddNotified.
func (l *Loop) Portable() bool { return l.port != nil }

// ID returns the id the registration is known by on its loop.
func (n Notifier) ID() int { return int(n.id) }

// Notify reports that ev (Readable, Writable, Hangup, Error) became ready
// for the registration. Safe from any goroutine, it never blocks on the
// loop. The loop remembers the events until the handler's interest
// (Modify) includes them, then delivers them once to OnEvents, on the loop
// goroutine, in a later iteration: a notified event outside the interest
// is delivered as soon as Modify adds that interest. Hangup and Error are
// delivered whatever the interest. Notifications that arrive before the
// loop delivers are merged into one call. After Remove of the
// registration, or Close of the loop, Notify has no effect, even if the id
// was registered again since.
func (n Notifier) Notify(ev Events) {
	ev &= Readable | Writable | Hangup | Error
	l := n.l
	if l == nil || ev == 0 {
		return
	}
	l.mu.Lock()
	if !l.closed {
		l.port.inbox = append(l.port.inbox, notification{id: n.id, serial: n.serial, ev: ev})
		l.wakeLocked()
	}
	l.mu.Unlock()
}

// notification is one Notify call on its way to the loop.
type notification struct {
	id     int32
	serial uint64
	ev     Events
}

// noteState is the loop's record of one notified id.
type noteState struct {
	serial  uint64 // of the registration now holding the id; 0: none
	pending Events // notified and not delivered yet
	dirty   bool   // the id is in notified.dirty
}

// notified is the state of a BackendPortable loop's notified handlers.
type notified struct {
	inbox  []notification // Notify calls not taken by the loop yet (Loop.mu)
	spare  []notification // the other inbox buffer (loop only)
	serial uint64         // the last serial given (loop only)
	ids    []noteState    // indexed by id, grown on demand (loop only)
	dirty  []int32        // ids that may have deliverable events (loop only)
}

// AddNotified registers h, which no fd backs, for ev (Readable and/or
// Writable), on a loop of BackendPortable; it fails with ErrNotPortable on
// other loops and with ErrTableFull when every slot of the table is taken
// (ids are slots of the table, shared with the other loops of the table).
// The handler is called with the Notifier's ID as fd when events notified
// through the returned Notifier are deliverable (see Notifier.Notify).
// Modify, Events and Remove take the ID. Call it on the loop goroutine or
// before Run.
func (l *Loop) AddNotified(h Handler, ev Events) (Notifier, error) {
	l.AssertInLoop()
	if l.port == nil {
		return Notifier{}, ErrNotPortable
	}
	if h == nil {
		return Notifier{}, ErrBadFD
	}
	id, ok := l.tab.claimID(l.id)
	if !ok {
		return Notifier{}, ErrTableFull
	}
	s := &l.tab.slots[id]
	s.h = h
	s.ev = uint16(ev & interest)
	s.gen++
	l.nfds++
	l.tab.n.Add(1)
	p := l.port
	for len(p.ids) <= id {
		p.ids = append(p.ids, noteState{})
	}
	p.serial++
	st := &p.ids[id]
	st.serial, st.pending = p.serial, 0
	return Notifier{l: l, id: int32(id), serial: p.serial}, nil
}

// modifyNotified records the new interest of a notified id; events already
// notified that it adds are delivered at the loop's next delivery.
func (l *Loop) modifyNotified(id int, old, ev Events) {
	p := l.port
	if added := ev &^ old; added != 0 && p.ids[id].pending&added != 0 {
		p.markDirty(id)
	}
}

// removeNotified forgets a notified id and gives it back to the table.
func (l *Loop) removeNotified(id int) {
	st := &l.port.ids[id]
	st.serial, st.pending = 0, 0
	l.release(&l.tab.slots[id])
	l.tab.freeID(id)
}

func (p *notified) markDirty(id int) {
	if st := &p.ids[id]; !st.dirty {
		st.dirty = true
		p.dirty = append(p.dirty, int32(id))
	}
}

// deliverNotified takes the Notify calls made so far (dropping those of
// removed registrations), then calls each handler with its pending events
// that its interest (plus Hangup and Error) includes, clearing them. Ids
// that a handler makes deliverable meanwhile (Modify) are served in the
// same pass. After Stop the rest is kept for the next pass.
func (l *Loop) deliverNotified() {
	p := l.port
	l.mu.Lock()
	in := p.inbox
	p.inbox = p.spare[:0]
	l.mu.Unlock()
	for _, n := range in {
		if st := &p.ids[n.id]; st.serial == n.serial {
			st.pending |= n.ev
			p.markDirty(int(n.id))
		}
	}
	clear(in)
	p.spare = in[:0]
	i := 0
	for ; i < len(p.dirty); i++ {
		if l.stopped.Load() {
			break
		}
		id := p.dirty[i]
		st := &p.ids[id]
		st.dirty = false
		if st.serial == 0 {
			continue
		}
		s := &l.tab.slots[id]
		ev := st.pending & (Events(s.ev) | Hangup | Error)
		if ev == 0 {
			continue
		}
		st.pending &^= ev
		s.h.OnEvents(int(id), ev)
	}
	p.dirty = p.dirty[:copy(p.dirty, p.dirty[i:])]
}

// hasDeliverable reports whether ids wait in the dirty list: the loop must
// not block then (a Modify from a timer or a posted func made them
// deliverable after this iteration's delivery).
func (l *Loop) hasDeliverable() bool { return l.port != nil && len(l.port.dirty) > 0 }
