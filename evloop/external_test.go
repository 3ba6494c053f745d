//go:build unix

package evloop

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// userPoller is the user's own poll loop in the external-mode tests.
type userPoller interface {
	set(fd int, ev Events) // (re)register fd with exactly ev; ev==0 keeps HUP/ERR
	del(fd int)
	wait(timeoutMs int) []readyEvent
	close()
}

// pollUser is a plain poll(2) loop over the fds learned from the notifications.
type pollUser struct {
	interest map[int]Events
}

func (p *pollUser) set(fd int, ev Events) { p.interest[fd] = ev }
func (p *pollUser) del(fd int)            { delete(p.interest, fd) }
func (p *pollUser) close()                {}
func (p *pollUser) wait(ms int) []readyEvent {
	fds := slices.Sorted(func(yield func(int) bool) {
		for fd := range p.interest {
			if !yield(fd) {
				return
			}
		}
	})
	pfds := make([]unix.PollFd, len(fds))
	for i, fd := range fds {
		pfds[i] = unix.PollFd{Fd: int32(fd), Events: EventsToPoll(p.interest[fd])}
	}
	n, err := unix.Poll(pfds, ms)
	if err != nil || n == 0 {
		return nil
	}
	var out []readyEvent
	for _, pf := range pfds {
		if pf.Revents != 0 {
			out = append(out, readyEvent{fd: pf.Fd, ev: PollToEvents(pf.Revents)})
		}
	}
	return out
}

func TestExternalPoll(t *testing.T) {
	testExternal(t, &pollUser{interest: map[int]Events{}})
}

// testExternal drives a Loop in external mode from the user's loop u: a
// socketpair echo (with Writable set and cleared on the way), a timer and a
// post from another goroutine. evloop must start no goroutine.
func testExternal(t *testing.T, u userPoller) {
	defer u.close()
	a, b := socketpair(t)
	var rec []string
	mask := map[int]Events{} // what the notifications asked for so far
	ext := &External{
		Add: func(fd int, ev Events) {
			rec = append(rec, fmt.Sprintf("add %d %v", fd, ev))
			mask[fd] = ev
			u.set(fd, ev)
		},
		Delete: func(fd int, ev Events) {
			rec = append(rec, fmt.Sprintf("del %d %v", fd, ev))
			delete(mask, fd)
			u.del(fd)
		},
		SetMode: func(fd int, ev Events) {
			rec = append(rec, fmt.Sprintf("set %d %v", fd, ev))
			mask[fd] |= ev
			u.set(fd, mask[fd])
		},
		ClearMode: func(fd int, ev Events) {
			rec = append(rec, fmt.Sprintf("clear %d %v", fd, ev))
			mask[fd] &^= ev
			u.set(fd, mask[fd])
		},
	}
	goroutines := runtime.NumGoroutine()

	l, err := New(Config{External: ext, Table: NewTable(4096)})
	if err != nil {
		t.Fatal(err)
	}
	wake := l.WakeFD()
	if err := l.Run(); err != ErrExternal {
		t.Fatalf("Run in external mode: %v", err)
	}

	var pending []byte
	echo := HandlerFunc(func(fd int, ev Events) {
		if ev&Readable != 0 {
			var buf [64]byte
			n, _ := unix.Read(fd, buf[:])
			if n > 0 {
				pending = append(pending, buf[:n]...)
				l.Modify(fd, Readable|Writable)
			}
		}
		if ev&Writable != 0 && len(pending) > 0 {
			n, _ := unix.Write(fd, pending)
			if n > 0 {
				pending = pending[n:]
			}
			if len(pending) == 0 {
				l.Modify(fd, Readable)
			}
		}
	})
	if err := l.Add(a, echo, Readable); err != nil {
		t.Fatal(err)
	}
	timerFired := false
	l.AfterFunc(30*time.Millisecond, func() { timerFired = true })
	if d := l.NextTimeout(); d <= 0 || d > 30*time.Millisecond {
		t.Fatalf("NextTimeout = %v, want (0, 30ms]", d)
	}
	posted := false
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the test's goroutine, not evloop's
		defer wg.Done()
		l.Post(func() { posted = true })
	}()
	wg.Wait()

	// The user's own fd b sits in the same loop.
	u.set(b, Readable)
	writeAll(t, b, []byte("ping"))
	var got []byte
	deadline := time.Now().Add(waitLong)
	for !(string(got) == "ping" && timerFired && posted) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out: echo %q timer %v posted %v", got, timerFired, posted)
		}
		ms := -1
		if d := l.NextTimeout(); d >= 0 {
			ms = int((d + time.Millisecond - 1) / time.Millisecond)
		}
		if ms < 0 || ms > 1000 {
			ms = 1000
		}
		ready := u.wait(ms)
		if len(ready) == 0 {
			l.ServiceTimers()
			continue
		}
		for _, r := range ready {
			if int(r.fd) == b {
				var buf [64]byte
				n, _ := unix.Read(b, buf[:])
				if n > 0 {
					got = append(got, buf[:n]...)
				}
				continue
			}
			l.ServiceFD(int(r.fd), r.ev)
		}
	}
	u.del(b)
	if err := l.Remove(a); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if n := runtime.NumGoroutine(); n > goroutines {
		t.Errorf("goroutines: %d before, %d after", goroutines, n)
	}
	want := []string{
		fmt.Sprintf("add %d Readable", wake),
		fmt.Sprintf("add %d Readable", a),
		fmt.Sprintf("set %d Writable", a),
		fmt.Sprintf("clear %d Writable", a),
		fmt.Sprintf("del %d Readable", a),
		fmt.Sprintf("del %d Readable", wake),
	}
	if !slices.Equal(rec, want) {
		t.Fatalf("notifications:\n got %q\nwant %q", rec, want)
	}
	if len(mask) != 0 {
		t.Fatalf("fds left in the user's loop: %v", mask)
	}
}

// TestPostBatchSpreadsBursts: one iteration runs at most PostBatch posted
// funcs; the rest run, in order, in the next ones, and NextTimeout says
// not to sleep meanwhile.
func TestPostBatchSpreadsBursts(t *testing.T) {
	l, err := New(Config{External: &External{
		Add: func(int, Events) {}, Delete: func(int, Events) {},
		SetMode: func(int, Events) {}, ClearMode: func(int, Events) {},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const n = 2*PostBatch + 10
	var ran []int
	for i := 0; i < n; i++ {
		i := i
		l.Post(func() { ran = append(ran, i) })
	}
	for iter, want := range []int{PostBatch, 2 * PostBatch, n} {
		l.ServiceTimers()
		if len(ran) != want {
			t.Fatalf("after iteration %d: %d funcs ran, want %d", iter+1, len(ran), want)
		}
		if want < n && l.NextTimeout() != 0 {
			t.Fatalf("after iteration %d: NextTimeout %v with posted work left", iter+1, l.NextTimeout())
		}
	}
	for i, v := range ran {
		if v != i {
			t.Fatalf("func %d ran at position %d", v, i)
		}
	}
	if d := l.NextTimeout(); d != -1 {
		t.Fatalf("NextTimeout %v with nothing left, want -1", d)
	}
}
