package lws_test

import (
	"bufio"
	"bytes"
	"fmt"
	"log"
	"log/slog"
	"net"
	"strings"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/logging"
)

// Logging into log/slog: the library logs through libwebsockets' log mask
// (lws_set_log_level); an emitter from logging.SlogEmitter hands every
// line the mask lets through to the program's slog.Logger, at the matching
// slog level and with the lws level as attribute "lws_level". (The other
// way round, logging.NewSlogHandler makes a slog.Handler that writes into
// the lws log.) Here the service admits one connection and warns when it
// refuses the next.
func Example_logToSlog() {
	var logged bytes.Buffer // the program's log output; os.Stderr in a real program
	logger := slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // no timestamps, for the example's output
			}
			return a
		},
	}))
	defer logging.SetLogLevel(logging.LogLevel(), logging.EmitStderr) // restore for the other examples
	logging.SetLogLevel(logging.Err|logging.Warn, logging.SlogEmitter(logger))

	svc, err := lws.New(lws.Config{Addr: "127.0.0.1:0", MaxConns: 1})
	if err != nil {
		log.Fatal(err)
	}
	go svc.Run()

	// The first connection is served (a plain HTTP request, kept alive)...
	first, err := net.Dial("tcp", svc.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer first.Close()
	fmt.Fprint(first, "GET / HTTP/1.1\r\nHost: example\r\n\r\n")
	status, _ := bufio.NewReader(first).ReadString('\n')
	fmt.Println("first:", strings.TrimSpace(status))
	// ...the second is over the limit: closed at once, with a warning.
	second, err := net.Dial("tcp", svc.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer second.Close()
	_, err = second.Read(make([]byte, 1))
	fmt.Println("second:", err)
	svc.Close() // the loop has stopped: the log lines are all written
	fmt.Print(logged.String())
	// Output:
	// first: HTTP/1.1 404 Not Found
	// second: EOF
	// level=WARN msg="at the connection limit (1): refusing new connections (1 refused in this burst)" lws_level=WARN
}
