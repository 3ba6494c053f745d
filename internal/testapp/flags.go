package testapp

import (
	"flag"
	"fmt"
	"os"

	"github.com/lws-go/lws/logging"
)

// LogMaskFlag registers -d <mask> (libwebsockets' debug level mask,
// default 7: ERR, WARN, NOTICE) on fs.
func LogMaskFlag(fs *flag.FlagSet) *uint {
	return fs.Uint("d", uint(logging.Err|logging.Warn|logging.Notice), "log level `mask` (1 ERR, 2 WARN, 4 NOTICE, 8 INFO, 16 DEBUG, ...)")
}

// ApplyLogMask sets the log mask chosen with -d.
func ApplyLogMask(mask uint) { logging.SetLogLevel(logging.Level(mask), nil) }

// Usage prints a usage line and the flags.
func Usage(fs *flag.FlagSet, synopsis string) func() {
	return func() {
		fmt.Fprintf(os.Stderr, "usage: %s %s\n", fs.Name(), synopsis)
		fs.PrintDefaults()
	}
}
