package logging

import (
	"io"
	"os"
	"sync"
	"time"
)

// EmitStderr writes line to standard error in libwebsockets' format:
//
//	[2026/11/22 05:21:45:1234] N: line
//
// with local time, the last field in units of 100 µs and the level's
// one-letter tag ([Level.Letter]: E, W, N, I, D, ...), as libwebsockets 4.x
// writes them. It is the default emitter.
func EmitStderr(level Level, line string) { stderrEmitter(level, line) }

var stderrEmitter = NewWriterEmitter(os.Stderr)

// NewWriterEmitter returns an emitter that writes lines to w in the format of
// [EmitStderr], one Write per line, serialised by a mutex so that concurrent
// lines never interleave.
func NewWriterEmitter(w io.Writer) Emitter {
	var mu sync.Mutex
	var buf []byte
	return func(level Level, line string) {
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		buf = AppendLine(buf[:0], now, level, line)
		w.Write(buf)
		if cap(buf) > 64<<10 {
			buf = nil // do not keep a huge line's buffer forever
		}
	}
}

// AppendLine appends one log line in libwebsockets' format, with a trailing
// newline, to dst: "[YYYY/MM/DD hh:mm:ss:tttt] L: line\n" where tttt is
// the time's fraction of a second in units of 100 µs and L is
// level.Letter().
func AppendLine(dst []byte, t time.Time, level Level, line string) []byte {
	year, month, day := t.Date()
	hour, min, sec := t.Clock()
	dst = append(dst, '[')
	dst = appendInt(dst, year, 4)
	dst = append(dst, '/')
	dst = appendInt(dst, int(month), 2)
	dst = append(dst, '/')
	dst = appendInt(dst, day, 2)
	dst = append(dst, ' ')
	dst = appendInt(dst, hour, 2)
	dst = append(dst, ':')
	dst = appendInt(dst, min, 2)
	dst = append(dst, ':')
	dst = appendInt(dst, sec, 2)
	dst = append(dst, ':')
	dst = appendInt(dst, t.Nanosecond()/100000, 4)
	dst = append(dst, "] "...)
	dst = append(dst, level.Letter(), ':', ' ')
	dst = append(dst, line...)
	return append(dst, '\n')
}

// appendInt appends n zero-padded to width digits.
func appendInt(dst []byte, n, width int) []byte {
	var b [20]byte
	i := len(b)
	for n >= 10 || width > 1 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		width--
	}
	i--
	b[i] = byte('0' + n)
	return append(dst, b[i:]...)
}
