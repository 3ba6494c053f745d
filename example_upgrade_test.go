package lws_test

import (
	"context"
	"errors"
	"expvar"
	"fmt"
	"log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/lws-go/lws"
)

// chatMember is who a chat connection belongs to, set by the
// authenticating middleware.
type chatMember struct{ name string }

// A chat server inside a net/http program. Its middleware authenticates
// the request (a bearer token), sets a session cookie that goes out with
// the 101 response, and upgrades with the member as the connection's user
// value: the protocol's callbacks read it with lws.UserOf, no map keyed by
// address needed.
func ExampleService_UpgradeWith() {
	tokens := map[string]string{"t-alice": "alice", "t-bob": "bob", "t-carol": "carol"}
	var chat *lws.Protocol
	chat = &lws.Protocol{
		Name:       "chat",
		Reassemble: true,
		OnEstablished: func(c *lws.Conn) {
			m := lws.UserOf[*chatMember](c) // set before OnEstablished runs
			c.Service().Broadcast(chat, []byte(m.name+" joined"), lws.WriteText)
		},
		OnReceive: func(c *lws.Conn, msg []byte) {
			line := lws.UserOf[*chatMember](c).name + ": " + string(msg)
			c.Service().Broadcast(chat, []byte(line), lws.WriteText)
		},
	}
	svc, err := lws.New(lws.Config{Protocols: []*lws.Protocol{chat}}) // no Addr: net/http listens
	if err != nil {
		log.Fatal(err)
	}
	go svc.Run()
	defer svc.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("/chat", func(w http.ResponseWriter, r *http.Request) {
		name, ok := tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		if !ok {
			http.Error(w, "who are you?", http.StatusUnauthorized)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "chat_session", Value: "session-of-" + name})
		svc.UpgradeWith(w, r, lws.UpgradeOptions{Protocol: chat, User: &chatMember{name}})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Close()
	url := "ws://" + ln.Addr().String() + "/chat"

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dial := func(token string) (*lws.ClientConn, error) {
		return lws.Dial(ctx, url, &lws.DialOptions{Header: http.Header{"Authorization": {"Bearer " + token}}})
	}
	join := func(token string) *lws.ClientConn {
		conn, err := dial(token)
		if err != nil {
			log.Fatal(err)
		}
		return conn
	}

	// The cookie set on w arrives with the 101 response; a request the
	// middleware refuses gets its answer.
	carol := join("t-carol")
	fmt.Println("t-carol:", carol.Response().Status, carol.Response().Cookies())
	carol.Close(lws.CloseNormal, "")
	var refused *lws.HandshakeError
	if _, err := dial("wrong"); errors.As(err, &refused) {
		fmt.Println("wrong:", refused.Status, http.StatusText(refused.Status))
	}

	read := func(who string, conn *lws.ClientConn) {
		_, msg, err := conn.ReadMessage(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s reads %q\n", who, msg)
	}
	alice := join("t-alice")
	defer alice.Close(lws.CloseNormal, "")
	read("alice", alice)
	bob := join("t-bob")
	defer bob.Close(lws.CloseNormal, "")
	read("alice", alice)
	read("bob", bob)
	alice.WriteMessage(ctx, lws.WriteText, []byte("hi bob"))
	read("alice", alice)
	read("bob", bob)
	// Output:
	// t-carol: 101 Switching Protocols [chat_session=session-of-carol]
	// wrong: 401 Unauthorized
	// alice reads "alice joined"
	// alice reads "bob joined"
	// bob reads "bob joined"
	// alice reads "alice: hi bob"
	// bob reads "alice: hi bob"
}

// Two request paths served by two protocols on the service's own
// listener (libwebsockets' mounts): Protocol.Path routes each handshake,
// a client names no subprotocol, and a path no protocol serves gets 404.
// OnEstablished reads the handshake request's header fields with
// Conn.Request.
func ExampleProtocol_routes() {
	greet := func(room string) func(c *lws.Conn) {
		return func(c *lws.Conn) {
			who := c.Request().Header.Get("X-Nick")
			c.Write([]byte("welcome to "+room+", "+who), lws.WriteText)
		}
	}
	chat := &lws.Protocol{Name: "chat", Path: "/chat", OnEstablished: greet("the chat")}
	feed := &lws.Protocol{Name: "feed", Path: "/feed", OnEstablished: greet("the feed")}
	svc, err := lws.New(lws.Config{Addr: "127.0.0.1:0", Protocols: []*lws.Protocol{chat, feed}})
	if err != nil {
		log.Fatal(err)
	}
	go svc.Run()
	defer svc.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, path := range []string{"/feed", "/chat", "/nowhere"} {
		conn, err := lws.Dial(ctx, "ws://"+svc.Addr().String()+path, &lws.DialOptions{Header: http.Header{"X-Nick": {"gopher"}}})
		var refused *lws.HandshakeError
		if errors.As(err, &refused) {
			fmt.Printf("%s: refused with %d\n", path, refused.Status)
			continue
		} else if err != nil {
			log.Fatal(err)
		}
		_, msg, err := conn.ReadMessage(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %s\n", path, msg)
		conn.Close(lws.CloseNormal, "")
	}
	// Output:
	// /feed: welcome to the feed, gopher
	// /chat: welcome to the chat, gopher
	// /nowhere: refused with 404
}

// The service's counters, published with expvar: its /debug/vars page (or
// expvar.Handler on a mux of the program's own) shows them as JSON. A
// Prometheus collector reading Service.Stats is in the module
// examples/prometheus.
func ExampleService_Stats() {
	echo := &lws.Protocol{
		Name:       "echo",
		Reassemble: true,
		OnReceive:  func(c *lws.Conn, msg []byte) { c.Write(msg, lws.WriteText) },
	}
	svc, err := lws.New(lws.Config{Addr: "127.0.0.1:0", Protocols: []*lws.Protocol{echo}})
	if err != nil {
		log.Fatal(err)
	}
	go svc.Run()
	defer svc.Close()
	expvar.Publish("lws", expvar.Func(func() any { return svc.Stats() }))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := lws.Dial(ctx, "ws://"+svc.Addr().String()+"/", nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, msg := range []string{"hello", "stats"} {
		conn.WriteMessage(ctx, lws.WriteText, []byte(msg))
		if _, _, err := conn.ReadMessage(ctx); err != nil {
			log.Fatal(err)
		}
	}
	conn.Close(lws.CloseNormal, "bye")
	for svc.Stats().Connections > 0 && ctx.Err() == nil { // the server sees the close a moment later
		time.Sleep(time.Millisecond)
	}
	fmt.Println(expvar.Get("lws"))
	// Output:
	// {"Connections":0,"ConnectionsTotal":1,"MessagesReceived":2,"BytesReceived":10,"MessagesSent":2,"BytesSent":10,"Queued":0,"Dropped":0,"BroadcastsRefused":0,"Closes":{"1000":1}}
}
