package logging

import (
	"context"
	"log/slog"
	"runtime"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// SlogLevel maps an lws level to a slog level: Err -> Error, Warn -> Warn,
// Notice and Info -> Info, everything else -> Debug. For a mask of several
// levels the most severe one counts.
func SlogLevel(l Level) slog.Level {
	switch l := l & -l; l {
	case Err:
		return slog.LevelError
	case Warn:
		return slog.LevelWarn
	case Notice, Info:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

// LevelFromSlog maps a slog level to an lws level: Error and above -> Err,
// Warn and above -> Warn, Info and above -> Notice (enable Notice in the
// mask to see it: DefaultMask has only Err and Warn), below Info -> Debug.
func LevelFromSlog(l slog.Level) Level {
	switch {
	case l >= slog.LevelError:
		return Err
	case l >= slog.LevelWarn:
		return Warn
	case l >= slog.LevelInfo:
		return Notice
	}
	return Debug
}

// SlogEmitter returns an emitter that sends lws lines to l, at the level
// given by [SlogLevel], with the lws level name as attribute "lws_level".
// Use it with SetLogLevel to route the library's logging into a program's
// slog setup; the lws mask still decides what is emitted.
func SlogEmitter(l *slog.Logger) Emitter {
	return func(level Level, line string) {
		ctx := context.Background()
		sl := SlogLevel(level)
		if !l.Enabled(ctx, sl) {
			return
		}
		l.LogAttrs(ctx, sl, line, slog.String("lws_level", level.String()))
	}
}

// NewSlogHandler returns a slog.Handler that writes records as lws log lines
// through the current emitter, at the level given by [LevelFromSlog], and
// only when that level is enabled in the lws mask. A record becomes
//
//	message key=value group.key=value ...
//
// with values quoted (Go syntax) when they are empty or contain spaces,
// '=', quotes or non-printable characters; the time and level are the
// emitter's business. opts may be nil. Of its fields, Level is an extra
// minimum on top of the mask, AddSource appends source=file:line, and
// ReplaceAttr is applied to the non-group attributes (there are no
// built-in time, level and msg attributes to replace).
func NewSlogHandler(opts *slog.HandlerOptions) slog.Handler {
	h := &slogHandler{}
	if opts != nil {
		h.opts = *opts
	}
	return h
}

type slogHandler struct {
	opts        slog.HandlerOptions
	attrs       string   // rendered WithAttrs attributes, each " key=value"
	groups      []string // open groups, outermost first
	groupPrefix string   // groups joined with '.', with a trailing '.'
}

func (h *slogHandler) Enabled(_ context.Context, l slog.Level) bool {
	if h.opts.Level != nil && l < h.opts.Level.Level() {
		return false
	}
	return Enabled(LevelFromSlog(l))
}

func (h *slogHandler) Handle(_ context.Context, r slog.Record) error {
	if h.opts.Level != nil && r.Level < h.opts.Level.Level() {
		return nil
	}
	lv := LevelFromSlog(r.Level)
	if !Enabled(lv) {
		return nil
	}
	buf := make([]byte, 0, 128)
	buf = append(buf, r.Message...)
	buf = append(buf, h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		buf = h.appendAttr(buf, h.groupPrefix, h.groups, a)
		return true
	})
	if h.opts.AddSource && r.PC != 0 {
		f, _ := runtime.CallersFrames([]uintptr{r.PC}).Next()
		buf = h.appendAttr(buf, "", nil, slog.String(slog.SourceKey, f.File+":"+strconv.Itoa(f.Line)))
	}
	if r.Message == "" && len(buf) > 0 && buf[0] == ' ' {
		buf = buf[1:]
	}
	emit(lv, string(buf))
	return nil
}

func (h *slogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	h2 := *h
	buf := []byte(h.attrs)
	for _, a := range attrs {
		buf = h.appendAttr(buf, h.groupPrefix, h.groups, a)
	}
	h2.attrs = string(buf)
	return &h2
}

func (h *slogHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.groups = append(h.groups[:len(h.groups):len(h.groups)], name)
	h2.groupPrefix = h.groupPrefix + name + "."
	return &h2
}

// appendAttr renders a as " prefix+key=value", recursing into groups.
func (h *slogHandler) appendAttr(buf []byte, prefix string, groups []string, a slog.Attr) []byte {
	a.Value = a.Value.Resolve()
	if a.Value.Kind() == slog.KindGroup {
		attrs := a.Value.Group()
		if len(attrs) == 0 {
			return buf
		}
		if a.Key != "" {
			prefix += a.Key + "."
			groups = append(groups[:len(groups):len(groups)], a.Key)
		}
		for _, ga := range attrs {
			buf = h.appendAttr(buf, prefix, groups, ga)
		}
		return buf
	}
	if h.opts.ReplaceAttr != nil {
		a = h.opts.ReplaceAttr(groups, a)
		a.Value = a.Value.Resolve()
	}
	if a.Equal(slog.Attr{}) {
		return buf
	}
	buf = append(buf, ' ')
	buf = appendMaybeQuoted(buf, prefix+a.Key)
	buf = append(buf, '=')
	switch a.Value.Kind() {
	case slog.KindString:
		return appendMaybeQuoted(buf, a.Value.String())
	case slog.KindTime:
		return a.Value.Time().AppendFormat(buf, time.RFC3339Nano)
	case slog.KindInt64:
		return strconv.AppendInt(buf, a.Value.Int64(), 10)
	case slog.KindUint64:
		return strconv.AppendUint(buf, a.Value.Uint64(), 10)
	case slog.KindBool:
		return strconv.AppendBool(buf, a.Value.Bool())
	}
	return appendMaybeQuoted(buf, a.Value.String())
}

func appendMaybeQuoted(buf []byte, s string) []byte {
	if needsQuoting(s) {
		return strconv.AppendQuote(buf, s)
	}
	return append(buf, s...)
}

func needsQuoting(s string) bool {
	if s == "" {
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c <= ' ' || c == '=' || c == '"' || c == 0x7f {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}
