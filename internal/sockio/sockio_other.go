//go:build !unix

package sockio

// Where Go's unix support is absent (Windows) the library's loops run on
// the portable backend, whose sockets are net.Conns: nothing calls these
// descriptor functions there. They exist so that the code that chooses
// between the backends builds everywhere, and they fail if reached.

import (
	"errors"
	"net"
	"net/netip"
)

// errNoDescriptors is what every descriptor call returns here.
var errNoDescriptors = errors.New("sockio: no descriptor sockets on this system: the portable backend serves net.Conns")

// ErrAgain is a non-blocking call's "nothing can move now"; the portable
// backend's sockets return it too.
var ErrAgain = errors.New("sockio: resource temporarily unavailable")

// ErrConnAborted: a connection was aborted before accept took it.
var ErrConnAborted = errors.New("sockio: connection aborted")

// ErrNoSocket: the connection has no socket of its own.
var ErrNoSocket = errors.New("connection has no socket of its own")

// FaultInjection is false: faults are injected into descriptor calls only.
const FaultInjection = false

// AddrBuf is the peer address buffer of Accept.
type AddrBuf struct{}

func OutOfResources(error) bool      { return false }
func Read(int, []byte) (int, error)  { return 0, errNoDescriptors }
func Write(int, []byte) (int, error) { return 0, errNoDescriptors }
func Writev3(int, []byte, []byte, []byte) (int, error) {
	return 0, errNoDescriptors
}
func ShutdownWrite(int) error               { return errNoDescriptors }
func Connect(netip.AddrPort) (int, error)   { return -1, errNoDescriptors }
func ConnectError(int) error                { return errNoDescriptors }
func SetNoDelay(int) error                  { return errNoDescriptors }
func Close(int) error                       { return errNoDescriptors }
func DupConn(net.Conn) (int, error)         { return -1, errNoDescriptors }
func Socketpair() ([2]int, error)           { return [2]int{-1, -1}, errNoDescriptors }
func LocalAddr(int) (netip.AddrPort, error) { return netip.AddrPort{}, errNoDescriptors }
func SetFaults(Faults) error                { return errNoFaults }
func ResetAfter(int, int64, func()) error   { return errNoFaults }
func InjectedFaults() FaultCounts           { return FaultCounts{} }
func Accept(int, *AddrBuf) (int, netip.AddrPort, error) {
	return -1, netip.AddrPort{}, errNoDescriptors
}
func ListenTCP(netip.AddrPort, int, bool) (int, netip.AddrPort, error) {
	return -1, netip.AddrPort{}, errNoDescriptors
}
