//go:build !lwsfault && unix

package sockio

// FaultInjection reports whether this build can inject faults (the
// lwsfault build tag).
const FaultInjection = false

// readOnce, writeOnce and writev3Once are one system call each (io.go
// retries them when interrupted); this build injects no faults into them.
func readOnce(fd int, p []byte) (int, error)          { return read(fd, p) }
func writeOnce(fd int, p []byte) (int, error)         { return write(fd, p) }
func writev3Once(fd int, a, b, c []byte) (int, error) { return writev3(fd, a, b, c) }

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
