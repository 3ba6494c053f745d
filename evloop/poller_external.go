package evloop

// External carries the external-poll notifications (libwebsockets'
// LWS_CALLBACK_ADD_POLL_FD, DEL_POLL_FD, SET_MODE_POLL_FD and
// CLEAR_MODE_POLL_FD). They are called on the loop goroutine, synchronously
// from Add, Remove and Modify (and from New and Close for the wake-up fd).
// A nil func is skipped.
//
//   - Add(fd, ev): start polling fd for ev.
//   - Delete(fd, ev): stop polling fd (ev is what it was polled for).
//   - SetMode(fd, ev): also poll fd for ev.
//   - ClearMode(fd, ev): stop polling fd for ev.
type External struct {
	Add, Delete, SetMode, ClearMode func(fd int, ev Events)
}

// externalPoller forwards registrations to the user's loop; it never waits.
type externalPoller struct {
	x *External
}

func (p externalPoller) add(fd int, ev Events) error {
	if p.x.Add != nil {
		p.x.Add(fd, ev&interest)
	}
	return nil
}

func (p externalPoller) modify(fd int, old, ev Events) error {
	old &= interest
	ev &= interest
	if added := ev &^ old; added != 0 && p.x.SetMode != nil {
		p.x.SetMode(fd, added)
	}
	if removed := old &^ ev; removed != 0 && p.x.ClearMode != nil {
		p.x.ClearMode(fd, removed)
	}
	return nil
}

func (p externalPoller) remove(fd int, old Events) error {
	if p.x.Delete != nil {
		p.x.Delete(fd, old&interest)
	}
	return nil
}

func (p externalPoller) wait(int, []readyEvent) ([]readyEvent, error) { return nil, ErrExternal }

func (p externalPoller) close() error { return nil }
