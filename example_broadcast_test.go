package lws_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/lws-go/lws"
)

// A broadcast (chat) server: every message a client sends goes to every
// connection of the protocol, the sender included. Broadcast is safe from
// any goroutine, so the program can also announce from outside the loop.
func ExampleService_Broadcast() {
	var chat *lws.Protocol
	chat = &lws.Protocol{
		Name:       "chat",
		Reassemble: true,
		OnReceive: func(c *lws.Conn, msg []byte) {
			c.Service().Broadcast(chat, msg, lws.WriteText) // msg is copied
		},
	}
	svc, err := lws.New(lws.Config{Addr: "127.0.0.1:0", Protocols: []*lws.Protocol{chat}})
	if err != nil {
		log.Fatal(err)
	}
	go svc.Run()
	defer svc.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var clients []*lws.ClientConn
	for i := 0; i < 3; i++ {
		c, err := lws.Dial(ctx, "ws://"+svc.Addr().String()+"/", &lws.DialOptions{Protocols: []string{"chat"}})
		if err != nil {
			log.Fatal(err)
		}
		defer c.Close(lws.CloseNormal, "")
		clients = append(clients, c)
	}
	readAll := func() {
		for i, c := range clients {
			_, msg, err := c.ReadMessage(ctx)
			if err != nil {
				log.Fatal(err)
			}
			fmt.Printf("client %d: %s\n", i, msg)
		}
	}

	clients[0].WriteMessage(ctx, lws.WriteText, []byte("hi from client 0"))
	readAll()
	// From the program's own goroutine, not a callback:
	svc.Broadcast(chat, []byte("server: closing soon"), lws.WriteText)
	readAll()
	// Output:
	// client 0: hi from client 0
	// client 1: hi from client 0
	// client 2: hi from client 0
	// client 0: server: closing soon
	// client 1: server: closing soon
	// client 2: server: closing soon
}
