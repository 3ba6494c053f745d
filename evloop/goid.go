package evloop

import "runtime"

// InLoop reports whether the caller is the loop goroutine: the goroutine
// inside Run, which stays the loop's after Run returns (to close what the
// loop holds, to Finish) until Close. A function that would wait for the
// loop can tell it would wait for itself. It costs a runtime.Stack call
// (about a microsecond), so it is for rare checks, not hot paths. Before
// Run, after Close and in external-poll mode it reports false.
func (l *Loop) InLoop() bool {
	g := l.runner.Load()
	return g != 0 && g == goid()
}

// goid parses the current goroutine id from "goroutine 123 [running]:".
func goid() int64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	const prefix = "goroutine "
	if len(b) < len(prefix) || string(b[:len(prefix)]) != prefix {
		panic("evloop: cannot parse goroutine id")
	}
	var id int64
	for _, c := range b[len(prefix):] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + int64(c-'0')
	}
	return id
}
