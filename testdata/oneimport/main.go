// A typical program with a server and a client: it must need no import
// from this module but github.com/lws-go/lws (TestOneImport builds and
// runs it).
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/lws-go/lws"
)

func main() {
	closed := make(chan string, 1)
	chat := &lws.Protocol{
		Name:       "chat",
		Reassemble: true,
		OnReceive: func(c *lws.Conn, msg []byte) {
			mode := lws.WriteText
			if c.IsBinary() {
				mode = lws.WriteBinary
			}
			if string(msg) == "bye" {
				c.Close(lws.CloseNormal, "see you")
				return
			}
			if err := c.Write(msg, mode); err != nil {
				c.Close(lws.CloseInternalError, err.Error())
			}
		},
		OnClosed: func(c *lws.Conn, code lws.CloseCode, reason string) {
			closed <- fmt.Sprintf("server: closed %d %s", int(code), reason)
		},
	}
	svc, err := lws.New(lws.Config{Addr: "127.0.0.1:0", Protocols: []*lws.Protocol{chat}})
	if err != nil {
		log.Fatal(err)
	}
	go svc.Run()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := lws.Dial(ctx, "ws://"+svc.Addr().String()+"/", &lws.DialOptions{Protocols: []string{"chat"}})
	if err != nil {
		var he *lws.HandshakeError
		if errors.As(err, &he) {
			log.Fatalf("refused with %d: %s", he.Status, he.Body)
		}
		log.Fatal(err)
	}
	for _, m := range []struct {
		mode lws.WriteMode
		data string
	}{{lws.WriteText, "hello"}, {lws.WriteBinary, "\x00\x01"}} {
		if err := conn.WriteMessage(ctx, m.mode, []byte(m.data)); err != nil {
			log.Fatal(err)
		}
		mode, msg, err := conn.ReadMessage(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("client: %v %q\n", mode, msg)
	}
	if err := conn.Ping(ctx); err != nil {
		log.Fatal(err)
	}
	if err := svc.Broadcast(chat, []byte("to all"), lws.WriteText); err != nil {
		log.Fatal(err)
	}
	if _, msg, err := conn.ReadMessage(ctx); err != nil || string(msg) != "to all" {
		log.Fatal(msg, err)
	}
	conn.WriteMessage(ctx, lws.WriteText, []byte("bye"))
	_, _, err = conn.ReadMessage(ctx)
	var ce *lws.CloseError
	if !errors.As(err, &ce) || ce.Code != lws.CloseNormal || ce.Origin != lws.ClosedByPeer {
		log.Fatal(err)
	}
	fmt.Printf("client: closed %d %s\n", int(ce.Code), ce.Reason)
	fmt.Println(<-closed)
	conn.Close(lws.CloseNormal, "")
	if err := svc.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}
}
