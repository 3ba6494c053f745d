package testapp

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/lws-go/lws/daemon"
	"github.com/lws-go/lws/logging"
)

// Daemon is the -D support of a server-side test app: its flags and, once
// daemonized, the daemon.
type Daemon struct {
	daemonize *bool
	lockPath  *string
	logFile   *string
	app       string
	d         *daemon.Daemon // nil without -D
	log       *os.File
}

// DaemonFlags registers -D (run as a daemon), -lock-file (default lockName
// in the system temp dir, as libwebsockets' /tmp/.lwsts-lock) and
// -log-file on fs, for the app named app.
func DaemonFlags(fs *flag.FlagSet, app, lockName string) *Daemon {
	return &Daemon{
		daemonize: fs.Bool("D", false, "run as a daemon (logging to syslog, or to -log-file)"),
		lockPath:  fs.String("lock-file", filepath.Join(os.TempDir(), lockName), "lock `file` of the daemon (-D), holding its pid"),
		logFile:   fs.String("log-file", "", "with -D, log to `file` instead of syslog (default: syslog, or the lock file's path plus .log when there is no syslog)"),
		app:       app,
	}
}

// MaybeDaemonize makes the app a daemon when -D was given: the starting
// process exits in here, 0 once the daemon has called Ready, 1 with the
// reason otherwise; in the daemon, logging goes to -log-file, else syslog,
// else the lock file's path plus ".log". Without -D it only watches for
// signals. The context it returns ends at SIGINT or SIGTERM: stop the
// service then, and call Close.
func (d *Daemon) MaybeDaemonize() context.Context {
	if !*d.daemonize {
		ctx, _ := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		return ctx
	}
	logFile := *d.logFile
	if logFile != "" {
		logFile, _ = filepath.Abs(logFile) // the daemon runs in /
	}
	dm, err := daemon.Daemonize(*d.lockPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", d.app, err)
		os.Exit(1)
	}
	d.d = dm
	if err := d.startLogging(logFile); err != nil {
		d.Fatal(err)
	}
	return dm.Context()
}

// startLogging points the log emitter at the daemon's log.
func (d *Daemon) startLogging(logFile string) error {
	if logFile == "" {
		if emit, err := logging.NewSyslogEmitter(d.app); err == nil {
			logging.SetLogLevel(logging.LogLevel(), emit)
			return nil
		}
		logFile = d.d.LockPath() + ".log"
	}
	f, err := os.OpenFile(logFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("opening the log file: %w", err)
	}
	d.log = f
	logging.SetLogLevel(logging.LogLevel(), logging.NewWriterEmitter(f))
	return nil
}

// Ready tells the starting process the daemon is serving (no-op without -D).
func (d *Daemon) Ready() {
	if d.d != nil {
		d.d.Ready()
	}
}

// Fatal reports err (to stderr, the log, and the starting process when
// daemonizing), removes the lock and exits 1.
func (d *Daemon) Fatal(err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", d.app, err)
	if d.d != nil {
		logging.Errf("%s: %v", d.app, err)
		d.d.Fail(err)
		d.Close()
	}
	os.Exit(1)
}

// Close removes the daemon's lock and closes its log (no-op without -D).
func (d *Daemon) Close() {
	if d.d == nil {
		return
	}
	if err := d.d.Close(); err != nil {
		logging.Errf("%s: %v", d.app, err)
	}
	logging.Noticef("%s: stopped", d.app)
	if d.log != nil {
		logging.SetLogLevel(logging.LogLevel(), logging.EmitStderr)
		d.log.Close()
	}
	d.d = nil
}
