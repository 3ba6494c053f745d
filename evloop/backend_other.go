//go:build !unix

package evloop

// platformBackend is what BackendDefault means here: there are no fd
// backends on this system.
const platformBackend = BackendPortable

// initFDBackend fails: no fd backend exists on this system.
func (l *Loop) initFDBackend(Backend, *External) error { return ErrBackendUnavailable }
