package logging

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

type entry struct {
	level Level
	line  string
}

// capture collects emitted lines.
type capture struct {
	mu      sync.Mutex
	entries []entry
}

func (c *capture) emit(level Level, line string) {
	c.mu.Lock()
	c.entries = append(c.entries, entry{level, line})
	c.mu.Unlock()
}

func (c *capture) get() []entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]entry(nil), c.entries...)
}

// useCapture sets mask m with a capturing emitter and restores the previous
// mask and emitter when the test ends.
func useCapture(t *testing.T, m Level) *capture {
	t.Helper()
	prevMask, prevEmit := LogLevel(), *emitter.Load()
	t.Cleanup(func() { SetLogLevel(prevMask, prevEmit) })
	c := &capture{}
	SetLogLevel(m, c.emit)
	return c
}

func TestLevelValues(t *testing.T) {
	want := []Level{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}
	got := []Level{Err, Warn, Notice, Info, Debug, Parser, Header, Ext, Client, Latency, User}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("level %d = %d, want %d", i, got[i], want[i])
		}
	}
	if DefaultMask != Err|Warn || All != 2047 {
		t.Errorf("DefaultMask %d All %d", DefaultMask, All)
	}
}

func TestLevelString(t *testing.T) {
	cases := map[Level]string{
		Err: "ERR", Warn: "WARN", Notice: "NOTICE", Info: "INFO", Debug: "DEBUG", Parser: "PARSER",
		Header: "HEADER", Ext: "EXT", Client: "CLIENT", Latency: "LATENCY", User: "USER",
		0:                "0",
		Err | Notice:     "ERR|NOTICE",
		All:              "ERR|WARN|NOTICE|INFO|DEBUG|PARSER|HEADER|EXT|CLIENT|LATENCY|USER",
		2048:             "0x800",
		Warn | 1<<12:     "WARN|0x1000",
		Level(1<<31 | 1): "ERR|0x80000000",
	}
	for l, s := range cases {
		if got := l.String(); got != s {
			t.Errorf("Level(%d).String() = %q, want %q", uint32(l), got, s)
		}
	}
}

func TestLevelLetter(t *testing.T) {
	// libwebsockets 4.x's tags, in bit order.
	levels := []Level{Err, Warn, Notice, Info, Debug, Parser, Header, Ext, Client, Latency, User}
	for i, want := range "EWNIDPHXCLU" {
		if got := levels[i].Letter(); rune(got) != want {
			t.Errorf("%v.Letter() = %c, want %c", levels[i], got, want)
		}
	}
	for l, want := range map[Level]byte{0: '?', 2048: '?', Warn | Debug: 'W', Header | 1<<20: 'H'} {
		if got := l.Letter(); got != want {
			t.Errorf("Level(%d).Letter() = %c, want %c", uint32(l), got, want)
		}
	}
}

func TestLevelFunctions(t *testing.T) {
	c := useCapture(t, All)
	Errf("e %d", 1)
	Warnf("w %s", "x")
	Noticef("n\n")
	Infof("i")
	Debugf("100%%")
	Logf(Parser, "p %v", true)
	Logf(Header|Ext, "he") // several bits: the most severe enabled one
	Logf(User, "two\n\n")
	want := []entry{
		{Err, "e 1"}, {Warn, "w x"}, {Notice, "n"}, {Info, "i"}, {Debug, "100%"},
		{Parser, "p true"}, {Header, "he"}, {User, "two\n"},
	}
	if got := c.get(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

func TestMask(t *testing.T) {
	c := useCapture(t, Err|Debug|Ext)
	Errf("a")
	Warnf("b")
	Noticef("c")
	Infof("d")
	Debugf("e")
	Logf(Parser, "f")
	Logf(Header|Ext, "g") // only Ext is enabled
	Logf(0, "h")
	want := []entry{{Err, "a"}, {Debug, "e"}, {Ext, "g"}}
	if got := c.get(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	if !Enabled(Err) || Enabled(Warn) || !Enabled(Warn|Ext) || Enabled(0) {
		t.Fatal("Enabled disagrees with the mask")
	}
	if LogLevel() != Err|Debug|Ext {
		t.Fatalf("LogLevel() = %v", LogLevel())
	}
}

// TestEmitterGetsExactlyEnabledLevels logs once at every level under every
// mask of the defined levels: a custom emitter must receive exactly the
// enabled levels, each once, in order, with its own level and line.
func TestEmitterGetsExactlyEnabledLevels(t *testing.T) {
	c := useCapture(t, 0)
	levels := []Level{Err, Warn, Notice, Info, Debug, Parser, Header, Ext, Client, Latency, User}
	logAll := func() {
		Errf("line %d", Err)
		Warnf("line %d", Warn)
		Noticef("line %d", Notice)
		Infof("line %d", Info)
		Debugf("line %d", Debug)
		for _, l := range levels[5:] {
			Logf(l, "line %d", l)
		}
	}
	for m := Level(0); m <= All; m++ {
		SetLogLevel(m, c.emit)
		c.mu.Lock()
		c.entries = c.entries[:0]
		c.mu.Unlock()
		logAll()
		var want []entry
		for _, l := range levels {
			if m&l != 0 {
				want = append(want, entry{l, fmt.Sprintf("line %d", l)})
			}
		}
		if got := c.get(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("mask %v: emitter got %v, want %v", m, got, want)
		}
	}
}

func TestSetLogLevelNilKeepsEmitter(t *testing.T) {
	c := useCapture(t, Err)
	SetLogLevel(Err|Warn, nil)
	Warnf("kept")
	if got := c.get(); len(got) != 1 || got[0].line != "kept" {
		t.Fatalf("got %v", got)
	}
}

// panicStringer fails if it is ever formatted.
type panicStringer struct{ t *testing.T }

func (p *panicStringer) String() string {
	p.t.Error("disabled level formatted its arguments")
	return ""
}

func TestDisabledLevelAllocatesNothing(t *testing.T) {
	c := useCapture(t, DefaultMask)
	ps := &panicStringer{t}
	buf := &bytes.Buffer{}
	cases := map[string]func(){
		"Debugf constant":     func() { Debugf("constant string") },
		"Debugf pointer args": func() { Debugf("conn %p state %v buf %v", ps, ps, buf) },
		"Infof pointer args":  func() { Infof("%v %v", ps, t) },
		"Logf pointer args":   func() { Logf(Parser|Header, "%v", ps) },
		"Enabled":             func() { _ = Enabled(Latency) },
	}
	for name, f := range cases {
		if a := testing.AllocsPerRun(1000, f); a != 0 {
			t.Errorf("%s: %v allocs per call, want 0", name, a)
		}
	}
	if got := c.get(); len(got) != 0 {
		t.Fatalf("disabled levels emitted %v", got)
	}
}

// TestEnabledInlines fails when Enabled (or the level functions' mask check)
// stops being inlinable, which would put a call on every disabled log site.
func TestEnabledInlines(t *testing.T) {
	ci := os.Getenv("CI") == "true"
	if testing.Short() && !ci {
		t.Skip("runs the compiler")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		if ci {
			t.Fatalf("go tool not found: %v", err)
		}
		t.Skipf("go tool not found: %v", err)
	}
	out, err := exec.Command(goTool, "build", "-gcflags=-m", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -gcflags=-m: %v\n%s", err, out)
	}
	for _, fn := range []string{"Enabled", "logAt", "Errf", "Warnf", "Noticef", "Infof", "Debugf", "LogLevel"} {
		if !regexp.MustCompile(`(?m)can inline ` + fn + `( |$)`).Match(out) {
			t.Errorf("%s is no longer inlinable; compiler output:\n%s", fn, out)
		}
	}
}

func TestAppendLine(t *testing.T) {
	ts := time.Date(2026, 11, 22, 5, 21, 45, 123456789, time.Local)
	cases := []struct {
		t     time.Time
		level Level
		line  string
		want  string
	}{
		{ts, Notice, "text", "[2026/11/22 05:21:45:1234] N: text\n"},
		{time.Date(987, 1, 2, 3, 4, 5, 0, time.Local), Err, "", "[0987/01/02 03:04:05:0000] E: \n"},
		{time.Date(2013, 12, 31, 23, 59, 59, 999999999, time.Local), Latency, "x y", "[2013/12/31 23:59:59:9999] L: x y\n"},
		{ts, Ext, "deflate", "[2026/11/22 05:21:45:1234] X: deflate\n"},
	}
	for _, c := range cases {
		if got := string(AppendLine(nil, c.t, c.level, c.line)); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

var lineRE = regexp.MustCompile(`^\[\d{4}/\d\d/\d\d \d\d:\d\d:\d\d:\d{4}\] ([EWNIDPHXCLU]): (.*)$`)

func TestWriterEmitterConcurrent(t *testing.T) {
	var buf bytes.Buffer
	emit := NewWriterEmitter(&buf)
	const goroutines, lines = 8, 200
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range lines {
				emit(User, fmt.Sprintf("g%d line %d %s", g, i, strings.Repeat("x", i)))
			}
		})
	}
	wg.Wait()
	got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(got) != goroutines*lines {
		t.Fatalf("%d lines, want %d", len(got), goroutines*lines)
	}
	for _, l := range got {
		if !lineRE.MatchString(l) {
			t.Fatalf("malformed line %q", l)
		}
	}
}

// TestEmitStderr checks the defaults in a fresh process: mask Err|Warn
// (quiet unless something is wrong) and lines on stderr in libwebsockets'
// format.
func TestEmitStderr(t *testing.T) {
	if os.Getenv("LWS_LOGGING_CHILD") == "1" {
		Errf("err %d", 1)
		Warnf("warn")
		Noticef("notice is off by default")
		Infof("info is off by default")
		Debugf("debug is off by default")
		EmitStderr(User, "direct")
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestEmitStderr$")
	cmd.Env = append(os.Environ(), "LWS_LOGGING_CHILD=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child: %v\n%s", err, stderr.String())
	}
	got := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
	want := [][2]string{{"E", "err 1"}, {"W", "warn"}, {"U", "direct"}}
	if len(got) != len(want) {
		t.Fatalf("stderr:\n%s", stderr.String())
	}
	for i, l := range got {
		m := lineRE.FindStringSubmatch(l)
		if m == nil || m[1] != want[i][0] || m[2] != want[i][1] {
			t.Errorf("line %d = %q, want level %s text %q", i, l, want[i][0], want[i][1])
		}
	}
}

// TestConcurrentUse logs from many goroutines through every path while the
// mask and emitter change; it is meant for -race.
func TestConcurrentUse(t *testing.T) {
	c1 := useCapture(t, All)
	c2 := &capture{}
	logger := slog.New(NewSlogHandler(nil)).With("conn", 1)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 500 {
				Errf("g%d %d", g, i)
				Debugf("g%d %d", g, i)
				Logf(Client, "c")
				if Enabled(Info) {
					Infof("i")
				}
				logger.Warn("slog", "i", i)
			}
		})
	}
	wg.Go(func() {
		for i := range 500 {
			if i%2 == 0 {
				SetLogLevel(All, c1.emit)
			} else {
				SetLogLevel(Err, c2.emit)
			}
			SetLogLevel(LogLevel()|Debug, nil)
		}
	})
	wg.Wait()
	if n := len(c1.get()) + len(c2.get()); n < 4*500 {
		t.Fatalf("%d lines logged, want at least %d (every Errf)", n, 4*500)
	}
}

func BenchmarkDebugfDisabled(b *testing.B) {
	prevMask := LogLevel()
	b.Cleanup(func() { SetLogLevel(prevMask, nil) })
	SetLogLevel(DefaultMask, nil)
	p := &capture{}
	b.ReportAllocs()
	for b.Loop() {
		Debugf("conn %p rx %v", p, p)
	}
}

func BenchmarkNoticefEnabled(b *testing.B) {
	prevMask, prevEmit := LogLevel(), *emitter.Load()
	b.Cleanup(func() { SetLogLevel(prevMask, prevEmit) })
	var buf bytes.Buffer
	w := NewWriterEmitter(&buf)
	SetLogLevel(Err|Warn|Notice, func(l Level, line string) { buf.Reset(); w(l, line) })
	b.ReportAllocs()
	for b.Loop() {
		Noticef("listening on port %d", 7681)
	}
}
