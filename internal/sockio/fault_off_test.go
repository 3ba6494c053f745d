//go:build !lwsfault && unix

package sockio

import "testing"

// Without the lwsfault tag nothing can be injected.
func TestNoFaultsInThisBuild(t *testing.T) {
	if FaultInjection {
		t.Fatal("FaultInjection is set without the lwsfault tag")
	}
	if err := SetFaults(Faults{EAGAIN: 1}); err == nil {
		t.Fatal("SetFaults accepted a fault")
	}
	if err := SetFaults(Faults{}); err != nil {
		t.Fatalf("SetFaults of no fault: %v", err)
	}
	a, _ := socketPair(t)
	if err := ResetAfter(a, 0, nil); err == nil {
		t.Fatal("ResetAfter accepted")
	}
	if n, err := Write(a, []byte("x")); n != 1 || err != nil || InjectedFaults() != (FaultCounts{}) {
		t.Fatalf("write: %d, %v; counts %v", n, err, InjectedFaults())
	}
}

// Without the lwsfault tag WrapConn is the identity and arms nothing.
func TestWrapConnIsTheConn(t *testing.T) {
	c, _ := tcpPair(t)
	if WrapConn(c) != c || ConnFD(c) != -1 {
		t.Fatal("WrapConn wrapped, or ConnFD found a descriptor, without the lwsfault tag")
	}
}
