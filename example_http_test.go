package lws_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/lws-go/lws"
)

// Serving files and answering plain HTTP on the WebSocket port
// (libwebsockets' LWS_CALLBACK_HTTP on protocol 0). Config.DocumentRoot
// alone serves a directory; Config.HTTP decides per request, here an
// answer of its own for /status and files for the rest. Bodies are
// streamed from the file as the socket drains; paths that leave the root
// are refused.
func Example_servingFiles() {
	root, _ := os.MkdirTemp("", "lws-example-")
	defer os.RemoveAll(root)
	os.WriteFile(filepath.Join(root, "index.html"), []byte("<h1>hello from lws</h1>\n"), 0o644)

	svc, err := lws.New(lws.Config{
		Addr: "127.0.0.1:0",
		HTTP: func(r *lws.HTTPRequest) {
			if r.Path == "/status" {
				r.Respond(200, "text/plain", []byte("ok\n"))
				return
			}
			r.ServeFile(root, r.Path) // "/" serves index.html
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	go svc.Run()
	defer svc.Close()

	for _, path := range []string{"/", "/status", "/missing.txt", "/../etc/passwd"} {
		resp, err := http.Get("http://" + svc.Addr().String() + path)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			body = nil
		}
		fmt.Printf("%s: %d %s %q\n", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	// Output:
	// /: 200 text/html; charset=utf-8 "<h1>hello from lws</h1>\n"
	// /status: 200 text/plain "ok\n"
	// /missing.txt: 404 text/html; charset=utf-8 ""
	// /../etc/passwd: 403 text/html; charset=utf-8 ""
}

// Upgrading from a net/http handler: the program keeps its http.Server,
// router and middleware; the WebSocket connections are handed to the
// service's loop, where they cost no goroutine. The service needs no
// listener of its own, only to be running.
func ExampleService_Handler() {
	upper := &lws.Protocol{
		Name:       "upper",
		Reassemble: true,
		OnReceive: func(c *lws.Conn, msg []byte) {
			for i, b := range msg {
				if 'a' <= b && b <= 'z' {
					msg[i] = b - 'a' + 'A'
				}
			}
			c.Write(msg, lws.WriteText)
		},
	}
	svc, err := lws.New(lws.Config{Protocols: []*lws.Protocol{upper}}) // no Addr
	if err != nil {
		log.Fatal(err)
	}
	go svc.Run()
	defer svc.Close()

	mux := http.NewServeMux()
	mux.Handle("/ws", svc.Handler())
	// or, inside a handler of one's own: err := svc.Upgrade(w, r)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "plain HTTP") })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln) // or ListenAndServe / ListenAndServeTLS
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := lws.Dial(ctx, "ws://"+ln.Addr().String()+"/ws", &lws.DialOptions{Protocols: []string{"upper"}})
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close(lws.CloseNormal, "")
	conn.WriteMessage(ctx, lws.WriteText, []byte("served by the loop"))
	_, msg, err := conn.ReadMessage(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(msg))
	// Output: SERVED BY THE LOOP
}
