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

// BenchmarkDispatch measures one handler call: 64 fds stay readable
// (level-triggered, never read), so every wait returns all of them.
func BenchmarkDispatch(b *testing.B) {
	for _, bk := range backends {
		b.Run(bk.name, func(b *testing.B) {
			l := newLoop(b, Config{ForcePoll: bk.forcePoll})
			defer l.Close()
			n := 0
			h := HandlerFunc(func(fd int, ev Events) {
				n++
				if n == b.N {
					l.Stop()
				}
			})
			for range 64 {
				a, peer := socketpair(b)
				writeAll(b, peer, []byte("x"))
				if err := l.Add(a, h, Readable); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			if err := l.Run(); err != nil {
				b.Fatal(err)
			}
		})
	}
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
