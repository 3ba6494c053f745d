//go:build !unix

package daemon

import "context"

// Daemon is the running daemon's side of Daemonize.
type Daemon struct{}

// Daemonize reports ErrUnsupported.
func Daemonize(lockPath string) (*Daemon, error) { return nil, ErrUnsupported }

// LockPath is empty.
func (d *Daemon) LockPath() string { return "" }

// Context never ends.
func (d *Daemon) Context() context.Context { return context.Background() }

// Ready does nothing.
func (d *Daemon) Ready() error { return nil }

// Fail does nothing.
func (d *Daemon) Fail(reason error) {}

// Close does nothing.
func (d *Daemon) Close() error { return nil }
