//go:build !lwsfault

package sockio

// FaultInjection reports whether this build can inject faults (the
// lwsfault build tag).
const FaultInjection = false

// Read is read(2) on a non-blocking fd. It returns what unix.Read returns:
// (0, nil) at the end of the stream, unix.EAGAIN when nothing is there.
func Read(fd int, p []byte) (int, error) { return read(fd, p) }

// Write is write(2) on a non-blocking fd, returning what unix.Write returns.
func Write(fd int, p []byte) (int, error) { return write(fd, p) }

// Writev3 is writev(2) of up to three buffers (empty ones are skipped) on
// a non-blocking fd: how a frame is sent from a caller's slice, after what
// is already queued and the frame's header, without copying it. It returns
// the bytes written in all.
func Writev3(fd int, a, b, c []byte) (int, error) { return writev3(fd, a, b, c) }

// SetFaults fails unless f is the zero Faults: this build injects none.
func SetFaults(f Faults) error {
	if f != (Faults{}) {
		return errNoFaults
	}
	return nil
}

// ResetAfter fails: this build injects no faults.
func ResetAfter(fd int, after int64, tripped func()) error { return errNoFaults }

// InjectedFaults is all zeros: this build injects no faults.
func InjectedFaults() FaultCounts { return FaultCounts{} }
