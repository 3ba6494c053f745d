package lwsprom_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lws-go/lws"
	lwsprom "github.com/lws-go/lws/examples/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// startEcho runs a service echoing whole messages on a loopback port;
// stop closes it and waits for Run to return.
func startEcho() (svc *lws.Service, stop func(), err error) {
	echo := &lws.Protocol{
		Name:       "echo",
		Reassemble: true,
		OnReceive:  func(c *lws.Conn, msg []byte) { c.Write(msg, lws.WriteText) },
	}
	svc, err = lws.New(lws.Config{Addr: "127.0.0.1:0", Protocols: []*lws.Protocol{echo}})
	if err != nil {
		return nil, nil, err
	}
	done := make(chan struct{})
	go func() { svc.Run(); close(done) }()
	return svc, func() { svc.Close(); <-done }, nil
}

// talk opens a connection to svc, has each message echoed, and closes it
// with code, then waits until the service counts it closed.
func talk(svc *lws.Service, code lws.CloseCode, msgs ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := lws.Dial(ctx, "ws://"+svc.Addr().String()+"/", nil)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if err := conn.WriteMessage(ctx, lws.WriteText, []byte(m)); err != nil {
			return err
		}
		if _, _, err := conn.ReadMessage(ctx); err != nil {
			return err
		}
	}
	conn.Close(code, "")
	for svc.Stats().Connections > 0 {
		if ctx.Err() != nil {
			return errors.New("the service did not count the connection closed")
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// The collector exposes every counter of the snapshot, closes by code as
// a label, with the constant labels given.
func TestCollector(t *testing.T) {
	svc, stop, err := startEcho()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(lwsprom.NewCollector(svc, prometheus.Labels{"service": "echo"}))
	if err := talk(svc, lws.CloseNormal, "hello", "metrics"); err != nil {
		t.Fatal(err)
	}
	if err := talk(svc, lws.CloseGoingAway, "bye"); err != nil {
		t.Fatal(err)
	}

	want := `
# HELP lws_broadcasts_refused_total Broadcast calls refused because the loops had a backlog.
# TYPE lws_broadcasts_refused_total counter
lws_broadcasts_refused_total{service="echo"} 0
# HELP lws_closes_total WebSocket connections gone, by close code.
# TYPE lws_closes_total counter
lws_closes_total{code="1000",service="echo"} 1
lws_closes_total{code="1001",service="echo"} 1
# HELP lws_connections WebSocket connections open now.
# TYPE lws_connections gauge
lws_connections{service="echo"} 0
# HELP lws_connections_total WebSocket connections established.
# TYPE lws_connections_total counter
lws_connections_total{service="echo"} 2
# HELP lws_messages_dropped_total Messages refused by full send queues.
# TYPE lws_messages_dropped_total counter
lws_messages_dropped_total{service="echo"} 0
# HELP lws_messages_queued_total Messages Send and Broadcast queued on connections.
# TYPE lws_messages_queued_total counter
lws_messages_queued_total{service="echo"} 0
# HELP lws_messages_received_total Data messages received.
# TYPE lws_messages_received_total counter
lws_messages_received_total{service="echo"} 3
# HELP lws_messages_sent_total Data messages sent.
# TYPE lws_messages_sent_total counter
lws_messages_sent_total{service="echo"} 3
# HELP lws_received_bytes_total Payload bytes of the data messages received.
# TYPE lws_received_bytes_total counter
lws_received_bytes_total{service="echo"} 15
# HELP lws_sent_bytes_total Payload bytes of the data messages sent.
# TYPE lws_sent_bytes_total counter
lws_sent_bytes_total{service="echo"} 15
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

// A /metrics page of the program's own mux, served by promhttp.
func ExampleNewCollector() {
	svc, stop, err := startEcho()
	if err != nil {
		log.Fatal(err)
	}
	defer stop()
	reg := prometheus.NewRegistry()
	reg.MustRegister(lwsprom.NewCollector(svc, nil))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	if err := talk(svc, lws.CloseNormal, "hello"); err != nil {
		log.Fatal(err)
	}
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "lws_") {
			fmt.Println(line)
		}
	}
	// Output:
	// lws_broadcasts_refused_total 0
	// lws_closes_total{code="1000"} 1
	// lws_connections 0
	// lws_connections_total 1
	// lws_messages_dropped_total 0
	// lws_messages_queued_total 0
	// lws_messages_received_total 1
	// lws_messages_sent_total 1
	// lws_received_bytes_total 5
	// lws_sent_bytes_total 5
}
