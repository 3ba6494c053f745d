//go:build unix

package sockio

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestEpollWaitNow(t *testing.T) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(epfd)
	a, b := socketPair(t)
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, b, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(b)}); err != nil {
		t.Fatal(err)
	}
	events := make([]unix.EpollEvent, 4)
	if n, err := EpollWaitNow(epfd, events); n != 0 || err != nil {
		t.Fatalf("nothing ready: %d, %v", n, err)
	}
	Write(a, []byte("x"))
	if n, err := EpollWaitNow(epfd, events); n != 1 || err != nil || events[0].Fd != int32(b) || events[0].Events&unix.EPOLLIN == 0 {
		t.Fatalf("one fd ready: %d, %v, %+v", n, err, events[0])
	}
	if n, err := EpollWaitNow(epfd, nil); n != 0 || err != nil {
		t.Fatalf("no room for events: %d, %v", n, err)
	}
	if _, err := EpollWaitNow(-1, events); err != unix.EBADF {
		t.Fatalf("bad epoll fd: %v, want EBADF", err)
	}
	if allocs := testing.AllocsPerRun(100, func() { EpollWaitNow(epfd, events) }); allocs != 0 {
		t.Fatalf("%v allocations per call", allocs)
	}
}
