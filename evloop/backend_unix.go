//go:build unix

package evloop

// initFDBackend makes the loop's wake-up fd and its poller (the external
// notifications when ext is set) and registers the one with the other.
func (l *Loop) initFDBackend(b Backend, ext *External) error {
	w, err := newWaker()
	if err != nil {
		return err
	}
	var p poller
	if ext != nil {
		p = externalPoller{ext}
	} else if p, err = newInternalPoller(b); err != nil {
		w.close()
		return err
	}
	if err := p.add(w.rfd, Readable); err != nil {
		p.close()
		w.close()
		return err
	}
	l.w, l.wakeFD, l.p = &w, w.rfd, p
	return nil
}
