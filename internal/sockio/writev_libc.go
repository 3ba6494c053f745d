//go:build darwin || openbsd

package sockio

import "golang.org/x/sys/unix"

// writev3 is writev(2) of up to three buffers (empty ones are skipped) on
// a non-blocking fd: how a frame is sent from a caller's slice, after what
// is already queued and the frame's header, without copying it. It returns
// the bytes written in all. Here writev is libc's, through unix.Writev.
func writev3(fd int, a, b, c []byte) (int, error) {
	var bufs [3][]byte
	n := 0
	for _, p := range [3][]byte{a, b, c} {
		if len(p) > 0 {
			bufs[n] = p
			n++
		}
	}
	if n == 0 {
		return 0, nil
	}
	return unix.Writev(fd, bufs[:n])
}
