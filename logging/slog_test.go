package logging

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestSlogLevelMapping(t *testing.T) {
	to := map[Level]slog.Level{
		Err: slog.LevelError, Warn: slog.LevelWarn, Notice: slog.LevelInfo, Info: slog.LevelInfo,
		Debug: slog.LevelDebug, Parser: slog.LevelDebug, Header: slog.LevelDebug, Ext: slog.LevelDebug,
		Client: slog.LevelDebug, Latency: slog.LevelDebug, User: slog.LevelDebug, Warn | Debug: slog.LevelWarn,
	}
	for l, s := range to {
		if got := SlogLevel(l); got != s {
			t.Errorf("SlogLevel(%v) = %v, want %v", l, got, s)
		}
	}
	from := map[slog.Level]Level{
		slog.LevelError + 4: Err, slog.LevelError: Err, slog.LevelWarn: Warn, slog.LevelWarn + 1: Warn,
		slog.LevelInfo: Notice, slog.LevelInfo + 2: Notice, slog.LevelDebug: Debug, slog.LevelDebug - 4: Debug,
		slog.LevelInfo - 1: Debug,
	}
	for s, l := range from {
		if got := LevelFromSlog(s); got != l {
			t.Errorf("LevelFromSlog(%v) = %v, want %v", s, got, l)
		}
	}
}

func TestSlogEmitter(t *testing.T) {
	prevMask, prevEmit := LogLevel(), *emitter.Load()
	t.Cleanup(func() { SetLogLevel(prevMask, prevEmit) })

	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			return a
		},
	}))
	SetLogLevel(All, SlogEmitter(logger))
	Errf("e")
	Warnf("w")
	Noticef("n %d", 1)
	Infof("i")
	Debugf("d")
	Logf(Latency, "lat")
	want := `level=ERROR msg=e lws_level=ERR
level=WARN msg=w lws_level=WARN
level=INFO msg="n 1" lws_level=NOTICE
level=INFO msg=i lws_level=INFO
level=DEBUG msg=d lws_level=DEBUG
level=DEBUG msg=lat lws_level=LATENCY
`
	if buf.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", buf.String(), want)
	}

	// The logger's own level filters too.
	buf.Reset()
	quiet := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	SetLogLevel(All, SlogEmitter(quiet))
	Infof("dropped")
	Debugf("dropped")
	if buf.Len() != 0 {
		t.Fatalf("got %q", buf.String())
	}
}

type token string

func (token) LogValue() slog.Value { return slog.StringValue("REDACTED") }

func TestSlogHandler(t *testing.T) {
	c := useCapture(t, Err|Warn|Notice)
	logger := slog.New(NewSlogHandler(nil))
	when := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)

	logger.Error("failed", "err", errors.New("boom now"), "n", 3)
	logger.Warn("careful", "u", uint64(7), "ok", true, "f", 1.5, "d", 2*time.Second)
	logger.Info("hello", "who", "world", "empty", "", "quote", `a"b`, "eq", "a=b", "t", when)
	logger.Debug("not shown at the default mask")
	logger.Info("grouped", slog.Group("req", "method", "GET", slog.Group("hdr", "host", "h")), slog.Group("none"))
	logger.Info("inline group", slog.Group("", "a", 1), "secret", token("x"))
	logger.With("conn", 5).WithGroup("ws").With("proto", "lws-mirror").Info("msg", "len", 10)
	logger.WithGroup("g").WithGroup("").Info("empty group dropped")
	logger.Info("", "only", "attrs")
	logger.Info("bad utf8", "v", "a\xffb", "key with space", 1)
	logger.Info("trailing newline\n")

	want := []entry{
		{Err, `failed err="boom now" n=3`},
		{Warn, `careful u=7 ok=true f=1.5 d=2s`},
		{Notice, `hello who=world empty="" quote="a\"b" eq="a=b" t=2026-01-02T03:04:05.000000006Z`},
		{Notice, `grouped req.method=GET req.hdr.host=h`},
		{Notice, `inline group a=1 secret=REDACTED`},
		{Notice, `msg conn=5 ws.proto=lws-mirror ws.len=10`},
		{Notice, `empty group dropped`},
		{Notice, `only=attrs`},
		{Notice, `bad utf8 v="a\xffb" "key with space"=1`},
		{Notice, `trailing newline`},
	}
	got := c.get()
	if len(got) != len(want) {
		t.Fatalf("got %d lines:\n%v", len(got), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d:\ngot  %v %q\nwant %v %q", i, got[i].level, got[i].line, want[i].level, want[i].line)
		}
	}

	ctx := context.Background()
	h := NewSlogHandler(nil)
	if h.Enabled(ctx, slog.LevelDebug) || !h.Enabled(ctx, slog.LevelInfo) {
		t.Error("Enabled does not follow the lws mask")
	}
	SetLogLevel(All, nil)
	if !h.Enabled(ctx, slog.LevelDebug) {
		t.Error("Enabled does not follow the lws mask after SetLogLevel")
	}
}

func TestSlogHandlerOptions(t *testing.T) {
	c := useCapture(t, All)
	h := NewSlogHandler(&slog.HandlerOptions{
		Level:     slog.LevelInfo,
		AddSource: true,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			switch {
			case a.Key == "password":
				return slog.String(a.Key, "***")
			case a.Key == "drop":
				return slog.Attr{}
			case a.Key == "x" && len(groups) == 1 && groups[0] == "g":
				return slog.Int("x", 99)
			}
			return a
		},
	})
	if h.Enabled(context.Background(), slog.LevelDebug) {
		t.Error("Level option ignored by Enabled")
	}
	logger := slog.New(h)
	logger.Debug("below the Level option")
	logger.Info("login", "password", "hunter2", "drop", 1, slog.Group("g", "x", 1))
	got := c.get()
	if len(got) != 1 {
		t.Fatalf("got %v", got)
	}
	line := got[0].line
	if !strings.HasPrefix(line, "login password=*** g.x=99 source=") || !strings.Contains(line, "slog_test.go:") {
		t.Fatalf("line %q", line)
	}
	// Handle called directly (not through a Logger) still honours the options.
	h.Handle(context.Background(), slog.NewRecord(time.Now(), slog.LevelDebug, "direct", 0))
	if len(c.get()) != 1 {
		t.Fatal("Handle ignored the Level option")
	}
}
