package logging

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
)

// Level is a log level, one bit of the log mask. A mask of several levels is
// also a Level. The values are libwebsockets' LLL_* constants.
type Level uint32

// The levels, as in libwebsockets (LLL_ERR ... LLL_USER).
const (
	Err     Level = 1 << iota // LLL_ERR: errors
	Warn                      // LLL_WARN: warnings
	Notice                    // LLL_NOTICE: notable events (libwebsockets shows them by default; lws does not)
	Info                      // LLL_INFO: informational
	Debug                     // LLL_DEBUG: debugging
	Parser                    // LLL_PARSER: protocol parser detail
	Header                    // LLL_HEADER: HTTP headers
	Ext                       // LLL_EXT: extensions
	Client                    // LLL_CLIENT: client connections
	Latency                   // LLL_LATENCY: latency measurements
	User                      // LLL_USER: the application's own lines

	// All is every defined level.
	All = Err | Warn | Notice | Info | Debug | Parser | Header | Ext | Client | Latency | User
	// DefaultMask is the mask in effect until SetLogLevel is called:
	// errors and warnings only, so a program that embeds the library
	// hears from it only when something is wrong. libwebsockets' own
	// default, which the test apps in cmd/ keep, adds Notice.
	DefaultMask = Err | Warn
)

var levelNames = [...]string{"ERR", "WARN", "NOTICE", "INFO", "DEBUG", "PARSER", "HEADER", "EXT", "CLIENT", "LATENCY", "USER"}

// levelLetters are libwebsockets 4.x's one-letter tags, in bit order.
const levelLetters = "EWNIDPHXCLU"

// Letter returns the one-letter tag libwebsockets 4.x puts in its stderr
// lines for a single level: E, W, N, I, D, P, H, X (EXT), C, L, U. A mask
// of several levels gives the letter of its most severe one, and a level
// without a name '?'.
func (l Level) Letter() byte {
	l &= -l
	for i := 0; i < len(levelLetters); i++ {
		if l == 1<<i {
			return levelLetters[i]
		}
	}
	return '?'
}

// String returns the libwebsockets name of a level ("ERR", "NOTICE"); a mask
// of several levels gives the names joined by '|', bits without a name are
// shown in hex, and 0 gives "0".
func (l Level) String() string {
	if l != 0 && l&(l-1) == 0 && l <= User {
		for i := range levelNames {
			if l == 1<<i {
				return levelNames[i]
			}
		}
	}
	if l == 0 {
		return "0"
	}
	var b strings.Builder
	for i := range levelNames {
		if l&(1<<i) != 0 {
			if b.Len() > 0 {
				b.WriteByte('|')
			}
			b.WriteString(levelNames[i])
		}
	}
	if rest := l &^ All; rest != 0 {
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		b.WriteString("0x")
		b.WriteString(strconv.FormatUint(uint64(rest), 16))
	}
	return b.String()
}

// Emitter receives each enabled log line, without a trailing newline, with
// the single level it was logged at. It is called on the goroutine that
// logged and must be safe for concurrent use.
type Emitter func(level Level, line string)

var (
	mask    atomic.Uint32
	emitter atomic.Pointer[Emitter]
)

func init() {
	mask.Store(uint32(DefaultMask))
	e := Emitter(EmitStderr)
	emitter.Store(&e)
}

// SetLogLevel sets the mask of enabled levels and, if emit is not nil, the
// emitter (lws_set_log_level). A nil emit leaves the emitter as it is.
func SetLogLevel(m Level, emit Emitter) {
	if emit != nil {
		emitter.Store(&emit)
	}
	mask.Store(uint32(m))
}

// LogLevel returns the current mask.
func LogLevel() Level { return Level(mask.Load()) }

// Enabled reports whether any level of l is enabled in the mask. It is one
// atomic load and inlines, so guarding expensive argument computation with
// it costs nothing measurable.
func Enabled(l Level) bool { return mask.Load()&uint32(l) != 0 }

// Errf logs at Err (lwsl_err): a failure the library could not handle
// for a connection or the service, such as a listener that cannot accept.
// Formatting is as fmt.Sprintf; one trailing newline is dropped, as by
// every function here.
func Errf(format string, args ...any) { logAt(Err, format, args) }

// Warnf logs at Warn (lwsl_warn): something went wrong and was handled,
// a peer dropped for a protocol error or a slow reader, say.
func Warnf(format string, args ...any) { logAt(Warn, format, args) }

// Noticef logs at Notice (lwsl_notice), the operator's view of normal
// events (listening, daemonized, shutting down).
func Noticef(format string, args ...any) { logAt(Notice, format, args) }

// Infof logs at Info (lwsl_info): per-connection events.
func Infof(format string, args ...any) { logAt(Info, format, args) }

// Debugf logs at Debug (lwsl_debug): detail for the developer of the
// library, such as every state change of a connection. Guard argument
// computation that costs something with [Enabled].
func Debugf(format string, args ...any) { logAt(Debug, format, args) }

// Logf logs at level l (Parser, Header, Ext, Client, Latency, User, or any
// of the above). If l has several bits, the line is emitted once, at the
// most severe enabled one.
func Logf(l Level, format string, args ...any) {
	if Enabled(l) {
		output(l&Level(mask.Load()), format, args)
	}
}

// logAt is the level functions' body: the mask check inlines into every
// call site, the formatting stays out of line.
func logAt(l Level, format string, args []any) {
	if mask.Load()&uint32(l) != 0 {
		output(l, format, args)
	}
}

func output(l Level, format string, args []any) {
	emit(l&-l, fmt.Sprintf(format, args...)) // lowest set bit: the most severe level
}

// emit sends a finished line to the current emitter.
func emit(l Level, line string) {
	line = strings.TrimSuffix(line, "\n")
	(*emitter.Load())(l, line)
}
