package lws_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/lws-go/lws"
)

// Sending from another goroutine (libwebsockets' broadcast_foreign, without
// its flaws): Conn.Send is safe from any goroutine; the message is copied,
// queued on the connection's loop and sent whole, in order, as the socket
// takes it. Conn.Post runs a function on the loop, where every Conn method
// may be used.
func ExampleConn_Send() {
	established := make(chan *lws.Conn, 1)
	feed := &lws.Protocol{
		Name:          "feed",
		OnEstablished: func(c *lws.Conn) { established <- c },
	}
	svc, err := lws.New(lws.Config{Addr: "127.0.0.1:0", Protocols: []*lws.Protocol{feed}})
	if err != nil {
		log.Fatal(err)
	}
	go svc.Run()
	defer svc.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := lws.Dial(ctx, "ws://"+svc.Addr().String()+"/", &lws.DialOptions{Protocols: []string{"feed"}})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close(lws.CloseNormal, "")

	// A producer goroutine of the program: it holds the Conn, not the loop.
	c := <-established
	go func() {
		for _, price := range []string{"101.5", "101.7", "101.2"} {
			if err := c.Send([]byte(price), lws.WriteText); err != nil {
				log.Print(err) // ErrClosed once the connection has gone
				return
			}
		}
	}()
	for i := 0; i < 3; i++ {
		_, msg, err := client.ReadMessage(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("price", string(msg))
	}

	// Anything else from outside the loop goes through Post.
	c.Post(func() { c.Close(lws.CloseNormal, "market closed") })
	_, _, err = client.ReadMessage(ctx)
	fmt.Println("end:", err)
	// Output:
	// price 101.5
	// price 101.7
	// price 101.2
	// end: lws: the peer closed the connection with 1000 (normal closure): "market closed"
}
