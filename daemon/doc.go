// Package daemon turns a server program into a daemon, as libwebsockets'
// lws_daemonize does for its test server (the seed's "Daemonization").
//
// Go cannot fork a running program (the runtime's threads do not survive
// fork), so [Daemonize] re-executes the program's own binary with the same
// arguments and a marker in the environment:
//
//   - The starting process takes the lock file (refusing with
//     [AlreadyRunningError], "already running as pid N", when the pid in it
//     is alive; a stale lock is replaced), starts the copy in a new session
//     with stdin, stdout and stderr on /dev/null and a readiness pipe, and
//     waits up to [ReadyTimeout] (2 s). When the daemon reports ready it
//     writes the daemon's pid into the lock file (mode 0640) and exits 0;
//     when the daemon fails, exits or stays silent, Daemonize returns the
//     reason, and the program exits non-zero with it.
//   - The copy (the daemon) finds the marker: Daemonize checks it leads its
//     own session (setsid), sets the umask to 027, moves to / and returns a
//     [Daemon]. The program sets up its service, then calls [Daemon.Ready]
//     (or [Daemon.Fail] with the reason it cannot run), serves until
//     [Daemon.Context] ends at SIGTERM or SIGINT, stops cleanly and calls
//     [Daemon.Close], which removes the lock.
//
// The daemon's stderr is /dev/null: it must log to syslog or a file (see
// logging.NewSyslogEmitter and logging.NewWriterEmitter). Paths it is given
// should be absolute, since it runs in /; the lock path is made absolute
// by Daemonize.
//
// The package works on unix systems; elsewhere Daemonize reports
// ErrUnsupported. It imports only the standard library and
// golang.org/x/sys, and no other package of this module.
package daemon
