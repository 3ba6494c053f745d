package lws_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/lws-go/lws"
)

// An echo server: every message comes back whole, with its type. The
// callbacks run on the service loop, one connection at a time, so they
// need no locks.
func Example() {
	echo := &lws.Protocol{
		Name:       "echo",
		Reassemble: true, // whole messages; leave it out to get pieces as they arrive
		OnReceive: func(c *lws.Conn, msg []byte) {
			mode := lws.WriteText
			if c.IsBinary() {
				mode = lws.WriteBinary
			}
			c.Write(msg, mode)
		},
	}
	svc, err := lws.New(lws.Config{Addr: "127.0.0.1:0", Protocols: []*lws.Protocol{echo}})
	if err != nil {
		log.Fatal(err)
	}
	go svc.Run() // a real server: log.Fatal(svc.Run()) on the main goroutine
	defer svc.Close()

	// A client for the example's output.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := lws.Dial(ctx, "ws://"+svc.Addr().String()+"/", &lws.DialOptions{Protocols: []string{"echo"}})
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close(lws.CloseNormal, "")
	conn.WriteMessage(ctx, lws.WriteText, []byte("hello"))
	_, reply, err := conn.ReadMessage(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s came back\n", reply)
	// Output: hello came back
}

// A blocking client for ordinary Go programs: Dial waits for the
// handshake; ReadMessage and WriteMessage move whole messages. Here it
// talks to a server that sends a counter, like libwebsockets'
// dumb-increment-protocol.
func ExampleDial() {
	svc := startCounterServer()
	defer svc.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := lws.Dial(ctx, "ws://"+svc.Addr().String()+"/", &lws.DialOptions{
		Protocols: []string{"counter"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("subprotocol:", conn.Subprotocol())
	for i := 0; i < 3; i++ {
		op, msg, err := conn.ReadMessage(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(op, string(msg))
	}
	if err := conn.Close(lws.CloseNormal, "done"); err != nil {
		log.Fatal(err)
	}
	// Output:
	// subprotocol: counter
	// text 0
	// text 1
	// text 2
}

// startCounterServer runs a server whose "counter" protocol sends 0, 1,
// 2, ... every 10 ms from a per-connection timer (libwebsockets'
// lws_set_timer_usecs and LWS_CALLBACK_TIMER).
func startCounterServer() *lws.Service {
	counter := &lws.Protocol{
		Name: "counter",
		OnEstablished: func(c *lws.Conn) {
			c.SetUser(0)
			c.SetTimer(10 * time.Millisecond)
		},
		OnTimer: func(c *lws.Conn) {
			n := c.User().(int)
			c.Write([]byte(fmt.Sprint(n)), lws.WriteText)
			c.SetUser(n + 1)
			c.SetTimer(10 * time.Millisecond)
		},
	}
	svc, err := lws.New(lws.Config{Addr: "127.0.0.1:0", Protocols: []*lws.Protocol{counter}})
	if err != nil {
		log.Fatal(err)
	}
	go svc.Run()
	return svc
}
