package testapp

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/lws-go/lws/logging"
)

// ParseFlags parses a test app's command line (os.Args[1:]) with fs the
// way the C apps' getopt_long does: options may come before, between and
// after the positional arguments ("lws-test-fraggle -c 127.0.0.1 -p
// 7681"), "--" ends the options, and "-" alone is a positional argument.
// An option takes the next argument as its value unless it is a boolean
// flag or has its value after "=" ("--port=7681"). It returns the
// positional arguments in order, or fs's error (flag.ErrHelp after -h);
// fs should be made with flag.ContinueOnError, and Start handles the
// error.
func ParseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for len(args) > 0 {
		a := args[0]
		switch {
		case a == "--":
			return append(pos, args[1:]...), nil
		case len(a) < 2 || a[0] != '-':
			pos = append(pos, a)
			args = args[1:]
			continue
		}
		n := 1 // the option, and its value when that is the next argument
		if name := strings.TrimLeft(a, "-"); !strings.Contains(name, "=") && len(args) > 1 {
			if f := fs.Lookup(name); f != nil && !isBoolFlag(f) {
				n = 2
			}
		}
		if err := fs.Parse(args[:n]); err != nil {
			return nil, err
		}
		args = args[n:]
	}
	return pos, nil
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// Start begins a test app once its command line is parsed: when it did
// not parse (err) it exits, with status 0 after -h/--help (the usage is
// already printed) or else 2 after printing "name: err"; otherwise it
// applies the -d log mask.
func Start(name string, logMask uint, err error) {
	if err != nil {
		if err == flag.ErrHelp {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(2)
	}
	ApplyLogMask(logMask)
}

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
