//go:build darwin || freebsd || netbsd || openbsd

package sockio

import "golang.org/x/sys/unix"

// read is read(2) on a non-blocking fd. It returns what unix.Read returns:
// (0, nil) at the end of the stream, unix.EAGAIN when nothing is there.
func read(fd int, p []byte) (int, error) { return unix.Read(fd, p) }

// write is write(2) on a non-blocking fd, returning what unix.Write returns.
func write(fd int, p []byte) (int, error) { return unix.Write(fd, p) }
