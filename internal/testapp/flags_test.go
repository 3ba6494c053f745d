package testapp

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/lws-go/lws/logging"
)

// TestParseFlags: options before, between and after positional arguments,
// as getopt_long takes them, with the values and positionals each case
// must give.
func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // "c=.. p=.. s=.. name=.. pos=a,b", or "error: <substring>"
	}{
		{nil, "c=false p=7681 s=false name= pos="},
		{[]string{"-c", "127.0.0.1", "-p", "7681"}, "c=true p=7681 s=false name= pos=127.0.0.1"},
		{[]string{"-c", "127.0.0.1", "-p", "9000"}, "c=true p=9000 s=false name= pos=127.0.0.1"},
		{[]string{"127.0.0.1", "--port", "80", "-c"}, "c=true p=80 s=false name= pos=127.0.0.1"},
		{[]string{"--port=81", "host", "--ssl", "-name", "x y"}, "c=false p=81 s=true name=x y pos=host"},
		{[]string{"a", "-p", "1", "b", "-s", "c"}, "c=false p=1 s=true name= pos=a,b,c"},
		{[]string{"-s=false", "-c=true", "h"}, "c=true p=7681 s=false name= pos=h"},
		{[]string{"-name", "-c", "h"}, "c=false p=7681 s=false name=-c pos=h"}, // a value may start with '-'
		{[]string{"h", "--", "-p", "2"}, "c=false p=7681 s=false name= pos=h,-p,2"},
		{[]string{"--", "-p", "-c"}, "c=false p=7681 s=false name= pos=-p,-c"}, // all after "--" is positional
		{[]string{"-p", "3", "--"}, "c=false p=3 s=false name= pos="},
		{[]string{"-", "-c"}, "c=true p=7681 s=false name= pos=-"},
		{[]string{"host", "-p"}, "error: flag needs an argument: -p"},
		{[]string{"host", "-x", "1"}, "error: flag provided but not defined: -x"},
		{[]string{"host", "-p", "eighty"}, "error: invalid value \"eighty\" for flag -p"},
		{[]string{"host", "-h"}, "error: " + flag.ErrHelp.Error()},
		{[]string{"---p", "1"}, "error: bad flag syntax"},
	} {
		fs := flag.NewFlagSet("app", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c := fs.Bool("c", false, "")
		p := fs.Int("p", 7681, "")
		fs.IntVar(p, "port", 7681, "")
		s := fs.Bool("s", false, "")
		fs.BoolVar(s, "ssl", false, "")
		name := fs.String("name", "", "")
		pos, err := ParseFlags(fs, tc.args)
		var got string
		if err != nil {
			got = "error: " + err.Error()
			if strings.HasPrefix(tc.want, "error: ") && strings.Contains(got, strings.TrimPrefix(tc.want, "error: ")) {
				continue
			}
		} else {
			got = fmt.Sprintf("c=%v p=%d s=%v name=%s pos=%s", *c, *p, *s, *name, strings.Join(pos, ","))
		}
		if got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.args, got, tc.want)
		}
	}
	// -h is flag.ErrHelp itself, which Start turns into exit status 0.
	fs := flag.NewFlagSet("app", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if _, err := ParseFlags(fs, []string{"x", "-help"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-help: %v, want flag.ErrHelp", err)
	}
	if pos, _ := ParseFlags(fs, []string{"a", "b"}); !slices.Equal(pos, []string{"a", "b"}) {
		t.Errorf("positionals %q", pos)
	}
}

// TestLogMaskFlagDefault: the test apps keep libwebsockets' default log
// levels (ERR, WARN, NOTICE: their "serving" lines) although the
// library's own default is quieter.
func TestLogMaskFlagDefault(t *testing.T) {
	prev := logging.LogLevel()
	t.Cleanup(func() { logging.SetLogLevel(prev, nil) })
	fs := flag.NewFlagSet("app", flag.ContinueOnError)
	mask := LogMaskFlag(fs)
	if _, err := ParseFlags(fs, nil); err != nil {
		t.Fatal(err)
	}
	logging.SetLogLevel(logging.Err, nil)
	Start("app", *mask, nil)
	if got, want := logging.LogLevel(), logging.Err|logging.Warn|logging.Notice; got != want {
		t.Errorf("mask after Start with no -d: %v, want %v", got, want)
	}
}
