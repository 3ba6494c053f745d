//go:build unix

package sockio

import (
	"errors"

	"golang.org/x/sys/unix"
)

// ErrAgain is what a call on a non-blocking socket returns when it can move
// nothing now (EAGAIN): the socket's readiness is reported by the poller
// when it can.
const ErrAgain = unix.EAGAIN

// ErrConnAborted is Accept's error for a connection that was reset before
// it was accepted: the next one may be accepted at once.
const ErrConnAborted = unix.ECONNABORTED

// OutOfResources reports whether err says the process or the system is out
// of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM): a call may
// succeed again once some are released. It sees through the wrapping of
// package net's errors, so it serves net.Listener.Accept's error too.
func OutOfResources(err error) bool {
	var errno unix.Errno
	if !errors.As(err, &errno) {
		return false
	}
	switch errno {
	case unix.EMFILE, unix.ENFILE, unix.ENOBUFS, unix.ENOMEM:
		return true
	}
	return false
}

// Read is read(2) on a non-blocking fd, retried when interrupted by a
// signal. It returns what unix.Read returns otherwise: (0, nil) at the end
// of the stream, ErrAgain when nothing is there.
func Read(fd int, p []byte) (int, error) {
	for {
		n, err := readOnce(fd, p)
		if err != unix.EINTR {
			return n, err
		}
	}
}

// Write is write(2) on a non-blocking fd, retried when interrupted by a
// signal; ErrAgain when the socket takes nothing now.
func Write(fd int, p []byte) (int, error) {
	for {
		n, err := writeOnce(fd, p)
		if err != unix.EINTR {
			return n, err
		}
	}
}

// Writev3 is writev(2) of up to three buffers (empty ones are skipped) on
// a non-blocking fd, retried when interrupted by a signal: how a frame is
// sent from a caller's slice, after what is already queued and the frame's
// header, without copying it. It returns the bytes written in all, or
// ErrAgain when the socket takes nothing now.
func Writev3(fd int, a, b, c []byte) (int, error) {
	for {
		n, err := writev3Once(fd, a, b, c)
		if err != unix.EINTR {
			return n, err
		}
	}
}

// ShutdownWrite shuts the sending side of a socket (shutdown(2) with
// SHUT_WR): the peer reads the end of the stream once what is sent.
func ShutdownWrite(fd int) error { return unix.Shutdown(fd, unix.SHUT_WR) }
