//go:build unix

package lws_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/evloop"
	"golang.org/x/sys/unix"
)

// The external poll loop (libwebsockets' LWS_CALLBACK_ADD_POLL_FD,
// DEL_POLL_FD, SET_MODE_POLL_FD, CLEAR_MODE_POLL_FD and
// libwebsocket_service_fd): the program owns the poll(2) loop. The service
// tells it which descriptors to watch for what, and the loop hands every
// ready descriptor back with ServiceFD. NextTimeout says how long the loop
// may sleep so the service's timers fire on time. The service starts no
// goroutine of its own; the notifications and every callback run on the
// goroutine that calls ServiceFD and ServiceTimers.
func Example_externalPoll() {
	watched := map[int]int16{} // fd -> poll events: the program's own table
	ext := &evloop.External{
		Add:       func(fd int, ev evloop.Events) { watched[fd] = evloop.EventsToPoll(ev) },
		Delete:    func(fd int, _ evloop.Events) { delete(watched, fd) },
		SetMode:   func(fd int, ev evloop.Events) { watched[fd] |= evloop.EventsToPoll(ev) },
		ClearMode: func(fd int, ev evloop.Events) { watched[fd] &^= evloop.EventsToPoll(ev) },
	}
	echo := &lws.Protocol{
		Name:       "echo",
		Reassemble: true,
		OnReceive:  func(c *lws.Conn, msg []byte) { c.Write(msg, lws.WriteText) },
	}
	svc, err := lws.New(lws.Config{Addr: "127.0.0.1:0", Protocols: []*lws.Protocol{echo}, External: ext})
	if err != nil {
		log.Fatal(err)
	}

	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() { // the program's poll loop
		defer close(stopped)
		defer svc.Close() // from the loop's goroutine, between ServiceFD calls
		var fds []unix.PollFd
		for {
			select {
			case <-stop:
				return
			default:
			}
			fds = fds[:0]
			for fd, ev := range watched {
				fds = append(fds, unix.PollFd{Fd: int32(fd), Events: ev})
			}
			timeout := -1 // no timer pending: sleep until an fd is ready
			if d := svc.NextTimeout(); d >= 0 {
				timeout = int((d + time.Millisecond - 1) / time.Millisecond)
			}
			n, err := unix.Poll(fds, timeout)
			if err != nil && err != unix.EINTR {
				log.Fatal(err)
			}
			if n <= 0 {
				svc.ServiceTimers()
				continue
			}
			for _, p := range fds {
				if p.Revents != 0 {
					svc.ServiceFD(int(p.Fd), evloop.PollToEvents(p.Revents))
				}
			}
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := lws.Dial(ctx, "ws://"+svc.Addr().String()+"/", &lws.DialOptions{Protocols: []string{"echo"}})
	if err != nil {
		log.Fatal(err)
	}
	conn.WriteMessage(ctx, lws.WriteText, []byte("served from my own poll loop"))
	_, msg, err := conn.ReadMessage(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(msg))
	conn.Close(lws.CloseNormal, "")

	close(stop)
	svc.Post(func() {}) // wakes the poll loop: the service's wake-up fd is watched too
	<-stopped
	// Output: served from my own poll loop
}
