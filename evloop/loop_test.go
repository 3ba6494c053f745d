package evloop

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

func TestPostFIFO(t *testing.T) {
	for _, bk := range allBackends {
		t.Run(bk.String(), func(t *testing.T) {
			const senders, per = 8, 1000
			l := newLoop(t, Config{Backend: bk})
			startLoop(t, l)
			var loopG int64
			onLoop(t, l, func() { loopG = testGoid() })

			next := make([]int, senders) // loop only
			var bad []string
			done := make(chan struct{})
			total := 0
			var wg sync.WaitGroup
			for s := range senders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range per {
						err := l.Post(func() {
							if g := testGoid(); g != loopG && len(bad) < 10 {
								bad = append(bad, "post ran off the loop goroutine")
							}
							if next[s] != i && len(bad) < 10 {
								bad = append(bad, "out of order")
							}
							next[s] = i + 1
							total++
							if total == senders*per {
								close(done)
							}
						})
						if err != nil {
							t.Errorf("Post: %v", err)
							return
						}
					}
				}()
			}
			wg.Wait()
			wait(t, done, "all posts")
			onLoop(t, l, func() {
				if len(bad) > 0 {
					t.Errorf("%d problems, e.g. %s", len(bad), bad[0])
				}
			})
		})
	}
}

func TestOneWakeForManyPosts(t *testing.T) {
	for _, bk := range allBackends {
		t.Run(bk.String(), func(t *testing.T) {
			l := newLoop(t, Config{Backend: bk})
			n := 0
			for range 1000 {
				l.Post(func() { n++ })
			}
			if w := l.wakeWrites.Load(); w != 1 {
				t.Fatalf("%d wake-up writes for 1000 posts before Run, want 1", w)
			}
			startLoop(t, l)
			onLoop(t, l, func() {
				if n != 1000 {
					t.Errorf("ran %d posts, want 1000", n)
				}
			})
			// A burst posted from the loop goroutine (the loop cannot drain in
			// between) also costs one write.
			done := make(chan struct{})
			var before uint64
			l.Post(func() {
				before = l.wakeWrites.Load()
				m := 0
				for range 1000 {
					l.Post(func() {
						m++
						if m == 1000 {
							close(done)
						}
					})
				}
				if w := l.wakeWrites.Load() - before; w > 1 {
					t.Errorf("%d wake-up writes for a burst of 1000 posts, want <= 1", w)
				}
			})
			wait(t, done, "burst")
			if l.wakeDrains.Load() == 0 {
				t.Fatal("no drain of the wake-up fd recorded")
			}
		})
	}
}

func TestStopFromOtherGoroutine(t *testing.T) {
	for _, bk := range allBackends {
		t.Run(bk.String(), func(t *testing.T) {
			l := newLoop(t, Config{Backend: bk})
			done := make(chan error, 1)
			go func() { done <- l.Run() }()
			onLoop(t, l, func() {}) // running
			l.Stop()
			if err := wait(t, done, "Run to return"); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if err := l.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
		})
	}
}

func TestCloseWhileRunning(t *testing.T) {
	for _, bk := range allBackends {
		t.Run(bk.String(), func(t *testing.T) {
			l := newLoop(t, Config{Backend: bk})
			done := make(chan error, 1)
			go func() { done <- l.Run() }()
			onLoop(t, l, func() {
				if err := l.Close(); err != nil {
					t.Errorf("Close from handler: %v", err)
				}
			})
			if err := wait(t, done, "Run to return"); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if err := l.Post(func() {}); !errors.Is(err, ErrClosed) {
				t.Fatalf("Post after Close: %v", err)
			}
			if !l.isReleased() {
				t.Fatal("fds not released by Run after Close")
			}
		})
	}
}

// TestInLoop: InLoop is true on the goroutine running Run only, and on
// it still after Run returned, until Close.
func TestInLoop(t *testing.T) {
	for _, bk := range allBackends {
		t.Run(bk.String(), func(t *testing.T) {
			l := newLoop(t, Config{Backend: bk})
			if l.InLoop() {
				t.Fatal("InLoop before Run")
			}
			afterRun, closed, afterClose := make(chan bool, 1), make(chan struct{}), make(chan bool, 1)
			go func() {
				l.Run()
				afterRun <- l.InLoop()
				<-closed
				afterClose <- l.InLoop()
			}()
			in := make(chan bool, 1)
			onLoop(t, l, func() { in <- l.InLoop() })
			if !<-in {
				t.Error("InLoop is false in a posted func")
			}
			if l.InLoop() {
				t.Error("InLoop is true off the loop goroutine")
			}
			l.Stop()
			if !wait(t, afterRun, "Run after Stop") {
				t.Error("InLoop is false on the goroutine that ran Run, once it returned")
			}
			if l.InLoop() {
				t.Error("InLoop is true off the loop goroutine after Run returned")
			}
			l.Close()
			close(closed)
			if wait(t, afterClose, "InLoop after Close") {
				t.Error("InLoop is true on the goroutine that ran Run after Close")
			}
		})
	}
}

// TestStopLeavesPostsToFinish: Stop called by a posted func ends Run before
// the funcs posted after it run; Finish runs them, in order, on the
// caller's goroutine, and refuses posts from then on (those made by the
// funcs it runs too). Seal alone refuses posts and keeps what is queued.
func TestStopLeavesPostsToFinish(t *testing.T) {
	for _, bk := range allBackends {
		t.Run(bk.String(), func(t *testing.T) {
			l := newLoop(t, Config{Backend: bk})
			defer l.Close()
			var ran []int
			l.Post(func() { ran = append(ran, 0); l.Stop() })
			for i := 1; i <= 3; i++ {
				l.Post(func() { ran = append(ran, i) })
			}
			if err := l.Run(); err != nil {
				t.Fatal(err)
			}
			if len(ran) != 1 {
				t.Fatalf("Run ran %v, want only the func that stopped it", ran)
			}
			var repost error
			if err := l.Post(func() {
				ran = append(ran, 4)
				repost = l.Post(func() { ran = append(ran, -2) })
			}); err != nil {
				t.Fatalf("Post after Stop: %v", err)
			}
			l.Seal()
			if err := l.Post(func() { ran = append(ran, -1) }); err != ErrClosed {
				t.Fatalf("Post after Seal: %v, want ErrClosed", err)
			}
			l.Finish()
			if want := []int{0, 1, 2, 3, 4}; fmt.Sprint(ran) != fmt.Sprint(want) {
				t.Fatalf("after Finish: ran %v, want %v", ran, want)
			}
			if repost != ErrClosed {
				t.Fatalf("Post from a func Finish runs: %v, want ErrClosed", repost)
			}
		})
	}
}
