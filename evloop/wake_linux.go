//go:build linux

package evloop

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// eventfdOne is the 8-byte 1 an eventfd waker's signal adds to the
// counter, outside the stack so that no build (-race included) allocates
// it per call.
var eventfdOne = binary.NativeEndian.AppendUint64(nil, 1)

// newWaker makes an eventfd waker: one fd for both ends.
func newWaker() (waker, error) {
	fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return waker{rfd: -1, wfd: -1}, err
	}
	return waker{rfd: fd, wfd: fd, sig: eventfdOne}, nil
}
