//go:build unix

package evloop

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

type evRec struct {
	fd int
	ev Events
	g  int64
}

func TestReadable(t *testing.T) {
	for _, bk := range fdBackends {
		t.Run(bk.String(), func(t *testing.T) {
			l := newLoop(t, Config{Backend: bk})
			a, b := socketpair(t)
			got := make(chan evRec, 16)
			var buf [64]byte
			h := HandlerFunc(func(fd int, ev Events) {
				if ev&Readable != 0 {
					n, _ := unix.Read(fd, buf[:])
					if n > 0 {
						got <- evRec{fd, ev, testGoid()}
						if string(buf[:n]) == "hello" {
							return
						}
					}
				}
			})
			if err := l.Add(a, h, Readable); err != nil {
				t.Fatal(err)
			}
			if l.Table().Len() != 1 || l.Table().Get(a) == nil || l.Events(a) != Readable {
				t.Fatalf("table after Add: len %d, events %v", l.Table().Len(), l.Events(a))
			}
			var loopG int64
			startLoop(t, l)
			onLoop(t, l, func() { loopG = testGoid() })
			writeAll(t, b, []byte("hello"))
			r := wait(t, got, "Readable")
			if r.fd != a || r.ev&Readable == 0 {
				t.Fatalf("got fd %d ev %v, want fd %d Readable", r.fd, r.ev, a)
			}
			if r.g != loopG {
				t.Fatalf("handler ran on goroutine %d, loop goroutine is %d", r.g, loopG)
			}
		})
	}
}

func TestHangup(t *testing.T) {
	for _, bk := range fdBackends {
		t.Run(bk.String(), func(t *testing.T) {
			l := newLoop(t, Config{Backend: bk})
			a, b := socketpair(t)
			got := make(chan Events, 1)
			h := HandlerFunc(func(fd int, ev Events) {
				l.Remove(fd)
				got <- ev
			})
			if err := l.Add(a, h, Readable); err != nil {
				t.Fatal(err)
			}
			startLoop(t, l)
			unix.Close(b)
			ev := wait(t, got, "Hangup")
			if ev&Hangup == 0 {
				t.Fatalf("got %v, want Hangup", ev)
			}
		})
	}
}

func TestModifyWritable(t *testing.T) {
	for _, bk := range fdBackends {
		t.Run(bk.String(), func(t *testing.T) {
			l := newLoop(t, Config{Backend: bk})
			a, b := socketpair(t)
			var writable, readable int // loop goroutine only
			firstW := make(chan struct{})
			readCh := make(chan int, 1)
			h := HandlerFunc(func(fd int, ev Events) {
				if ev&Writable != 0 {
					writable++
					if writable == 1 {
						if err := l.Modify(fd, Readable); err != nil {
							t.Errorf("Modify: %v", err)
						}
						close(firstW)
					}
				}
				if ev&Readable != 0 {
					var buf [16]byte
					unix.Read(fd, buf[:])
					readable++
					readCh <- writable
				}
			})
			if err := l.Add(a, h, Readable); err != nil {
				t.Fatal(err)
			}
			startLoop(t, l)
			// Several iterations with only Readable interest: no Writable.
			for range 5 {
				onLoop(t, l, func() {})
			}
			onLoop(t, l, func() {
				if writable != 0 {
					t.Errorf("Writable delivered without interest (%d)", writable)
				}
				if err := l.Modify(a, Readable|Writable); err != nil {
					t.Errorf("Modify: %v", err)
				}
				if l.Events(a) != Readable|Writable {
					t.Errorf("Events = %v", l.Events(a))
				}
			})
			wait(t, firstW, "Writable")
			// Back to Readable only: level-triggered Writable must stop.
			for range 5 {
				onLoop(t, l, func() {})
			}
			writeAll(t, b, []byte("x"))
			if w := wait(t, readCh, "Readable"); w != 1 {
				t.Fatalf("Writable delivered %d times, want 1 (Modify back to Readable ignored)", w)
			}
		})
	}
}

func TestRemoveStopsEvents(t *testing.T) {
	for _, bk := range fdBackends {
		t.Run(bk.String(), func(t *testing.T) {
			l := newLoop(t, Config{Backend: bk})
			a, b := socketpair(t)
			var calls int // loop only
			first := make(chan struct{})
			h := HandlerFunc(func(fd int, ev Events) {
				calls++
				if calls == 1 {
					// Do not read: level-triggered readiness persists.
					if err := l.Remove(fd); err != nil {
						t.Errorf("Remove: %v", err)
					}
					close(first)
				}
			})
			if err := l.Add(a, h, Readable); err != nil {
				t.Fatal(err)
			}
			startLoop(t, l)
			writeAll(t, b, []byte("data"))
			wait(t, first, "first event")
			for range 5 {
				onLoop(t, l, func() {})
			}
			onLoop(t, l, func() {
				if calls != 1 {
					t.Errorf("handler called %d times after Remove, want 1", calls)
				}
				if l.Table().Len() != 0 || l.Table().Get(a) != nil {
					t.Errorf("slot not freed")
				}
				if err := l.Remove(a); !errors.Is(err, ErrNotRegistered) {
					t.Errorf("second Remove: %v, want ErrNotRegistered", err)
				}
			})
			// Remove never closes the fd.
			if _, err := unix.Write(a, []byte("y")); err != nil {
				t.Fatalf("fd closed by Remove: %v", err)
			}
		})
	}
}

// A handler removing another fd that is ready in the same batch: the removed
// fd's handler must not be called, even if it was re-added.
func TestRemoveDuringBatch(t *testing.T) {
	for _, bk := range fdBackends {
		t.Run(bk.String(), func(t *testing.T) {
			for _, readd := range []bool{false, true} {
				l := newLoop(t, Config{Backend: bk})
				a1, b1 := socketpair(t)
				a2, b2 := socketpair(t)
				var called []int
				var first = -1
				var other = map[int]int{a1: a2, a2: a1}
				var h Handler
				h = HandlerFunc(func(fd int, ev Events) {
					called = append(called, fd)
					if first < 0 {
						first = fd
						l.Remove(other[fd])
						if readd {
							if err := l.Add(other[fd], HandlerFunc(func(fd int, ev Events) {
								called = append(called, -fd)
							}), Readable); err != nil {
								t.Errorf("re-Add: %v", err)
							}
						}
					}
				})
				l.Add(a1, h, Readable)
				l.Add(a2, h, Readable)
				writeAll(t, b1, []byte("1"))
				writeAll(t, b2, []byte("2"))
				// Both are ready before the first wait, so one batch has both.
				l.Post(func() { l.Stop() })
				if err := l.Run(); err != nil {
					t.Fatal(err)
				}
				if len(called) != 1 || called[0] != first {
					t.Fatalf("readd=%v: calls %v, want only %d", readd, called, first)
				}
				l.Close()
			}
		})
	}
}

func TestClose(t *testing.T) {
	for _, bk := range fdBackends {
		t.Run(bk.String(), func(t *testing.T) {
			l := newLoop(t, Config{Backend: bk})
			a, _ := socketpair(t)
			if err := l.Add(a, HandlerFunc(func(int, Events) {}), Readable); err != nil {
				t.Fatal(err)
			}
			wfd := l.WakeFD()
			var pfd = -1
			if ep, ok := l.p.(interface{ fd() int }); ok {
				pfd = ep.fd()
			}
			if err := l.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if _, err := unix.FcntlInt(uintptr(wfd), unix.F_GETFD, 0); err != unix.EBADF {
				t.Errorf("wake fd still open after Close (err %v)", err)
			}
			if pfd >= 0 {
				if _, err := unix.FcntlInt(uintptr(pfd), unix.F_GETFD, 0); err != unix.EBADF {
					t.Errorf("poller fd still open after Close (err %v)", err)
				}
			}
			if _, err := unix.FcntlInt(uintptr(a), unix.F_GETFD, 0); err != nil {
				t.Errorf("registered fd closed by Close: %v", err)
			}
			if l.Table().Len() != 0 {
				t.Errorf("table slots not freed: %d", l.Table().Len())
			}
			if err := l.Post(func() {}); !errors.Is(err, ErrClosed) {
				t.Errorf("Post after Close: %v", err)
			}
			if err := l.Run(); !errors.Is(err, ErrClosed) {
				t.Errorf("Run after Close: %v", err)
			}
			if err := l.Close(); !errors.Is(err, ErrClosed) {
				t.Errorf("second Close: %v", err)
			}
			l.Stop() // must not write to a closed fd or panic
		})
	}
}

func TestAddErrors(t *testing.T) {
	a, b := socketpair(t)
	size := min(a, b) // both fds are >= size
	tab := NewTable(size)
	l := newLoop(t, Config{Table: tab})
	defer l.Close()
	h := HandlerFunc(func(int, Events) {})
	if err := l.Add(a, h, Readable); !errors.Is(err, ErrTableFull) {
		t.Fatalf("Add(fd %d) with table size %d: %v, want ErrTableFull", a, size, err)
	}
	if err := l.Add(-1, h, Readable); !errors.Is(err, ErrBadFD) {
		t.Fatalf("Add(-1): %v", err)
	}

	// Two loops sharing a table: an fd belongs to one of them.
	tab2 := NewTable(max(a, b) + 1)
	l1 := newLoop(t, Config{Table: tab2})
	l2 := newLoop(t, Config{Table: tab2, Backend: BackendPoll})
	defer l1.Close()
	defer l2.Close()
	if err := l1.Add(a, h, Readable); err != nil {
		t.Fatal(err)
	}
	if err := l1.Add(a, h, Readable); !errors.Is(err, ErrExists) {
		t.Fatalf("double Add: %v", err)
	}
	if err := l2.Add(a, h, Readable); !errors.Is(err, ErrExists) {
		t.Fatalf("Add on second loop: %v", err)
	}
	if err := l2.Modify(a, Writable); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("Modify on non-owner: %v", err)
	}
	if err := l2.Add(b, h, Readable); err != nil {
		t.Fatal(err)
	}
	if tab2.Len() != 2 {
		t.Fatalf("Len = %d, want 2", tab2.Len())
	}
	if err := l1.Remove(a); err != nil {
		t.Fatal(err)
	}
	if err := l2.Add(a, h, Readable); err != nil {
		t.Fatalf("Add after Remove on other loop: %v", err)
	}
}
