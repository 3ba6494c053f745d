package evloop

import (
	"testing"
)

// BenchmarkPost posts a pre-built func to a running loop: the steady state
// must allocate nothing (the queue buffers are swapped, not reallocated).
func BenchmarkPost(b *testing.B) {
	l := newLoop(b, Config{})
	startLoop(b, l)
	n := 0
	f := func() { n++ }
	onLoop(b, l, func() {})
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		l.Post(f)
	}
	onLoop(b, l, func() {})
	b.StopTimer()
	if n != b.N {
		b.Fatalf("ran %d of %d", n, b.N)
	}
}

// BenchmarkPostParallel posts from GOMAXPROCS goroutines.
func BenchmarkPostParallel(b *testing.B) {
	l := newLoop(b, Config{})
	startLoop(b, l)
	f := func() {}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Post(f)
		}
	})
	onLoop(b, l, func() {})
}

// BenchmarkTimer arms and fires timers through the heap.
func BenchmarkTimer(b *testing.B) {
	l := newLoop(b, Config{})
	defer l.Close()
	n := 0
	var f func()
	f = func() {
		n++
		if n == b.N {
			l.Stop()
			return
		}
		l.AfterFunc(0, f)
	}
	l.AfterFunc(0, f)
	b.ReportAllocs()
	b.ResetTimer()
	l.Run()
}
