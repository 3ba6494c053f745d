//go:build unix

package evloop

import "testing"

// BenchmarkDispatch measures one handler call: 64 fds stay readable
// (level-triggered, never read), so every wait returns all of them.
func BenchmarkDispatch(b *testing.B) {
	for _, bk := range fdBackends {
		b.Run(bk.String(), func(b *testing.B) {
			l := newLoop(b, Config{Backend: bk})
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
