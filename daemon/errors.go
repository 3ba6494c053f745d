package daemon

import "errors"

// ErrUnsupported is returned by Daemonize on systems without fork/exec
// style daemons (anything but unix).
var ErrUnsupported = errors.New("daemon: not supported on this system")
