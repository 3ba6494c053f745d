package wsjson_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/wsjson"
)

type quote struct {
	Symbol string  `json:"symbol"`
	Price  float64 `json:"price"`
}

// A JSON client against a server started here: the server answers each
// request with a quote from its callback; the client checks the
// connection with Ping, asks, and reads the answers.
func Example() {
	prices := map[string]float64{"LWS": 4.2, "GO": 1.26}
	quotes := &lws.Protocol{
		Name:       "quotes",
		Reassemble: true,
		OnReceive: func(c *lws.Conn, data []byte) {
			var symbol string
			if err := wsjson.Receive(c, data, &symbol); err != nil {
				c.Close(lws.CloseUnsupportedData, "want a JSON string")
				return
			}
			wsjson.WriteConn(c, quote{Symbol: symbol, Price: prices[symbol]})
		},
	}
	svc, err := lws.New(lws.Config{Addr: "127.0.0.1:0", Protocols: []*lws.Protocol{quotes}})
	if err != nil {
		log.Fatal(err)
	}
	go svc.Run()
	defer svc.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := lws.Dial(ctx, "ws://"+svc.Addr().String()+"/", &lws.DialOptions{Protocols: []string{"quotes"}})
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close(lws.CloseNormal, "")
	if err := conn.Ping(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("pong")
	for _, symbol := range []string{"LWS", "GO"} {
		if err := wsjson.Write(ctx, conn, symbol); err != nil {
			log.Fatal(err)
		}
		var q quote
		if err := wsjson.Read(ctx, conn, &q); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s %.2f\n", q.Symbol, q.Price)
	}
	// Output:
	// pong
	// LWS 4.20
	// GO 1.26
}
