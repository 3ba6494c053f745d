package wsjson_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/wsjson"
)

type order struct {
	ID    int      `json:"id"`
	Items []string `json:"items"`
	Note  string   `json:"note,omitempty"`
}

func start(t *testing.T, protos ...*lws.Protocol) *lws.Service {
	t.Helper()
	svc, err := lws.New(lws.Config{Addr: "127.0.0.1:0", Protocols: protos})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- svc.Run() }()
	t.Cleanup(func() {
		svc.Close()
		<-done
	})
	return svc
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestRoundTrip: the client writes values, the server decodes each in
// OnReceive and answers from the callback (WriteConn) and from another
// goroutine (Send); Broadcast reaches every client. Values survive whole,
// and a message that is not JSON is an error that keeps the connection.
func TestRoundTrip(t *testing.T) {
	var shop *lws.Protocol
	shop = &lws.Protocol{
		Name:       "shop",
		Reassemble: true,
		OnReceive: func(c *lws.Conn, data []byte) {
			var o order
			if err := wsjson.Receive(c, data, &o); err != nil {
				c.Write([]byte("not json"), lws.WriteText)
				return
			}
			o.Note = "received"
			if err := wsjson.WriteConn(c, &o); err != nil {
				c.Close(lws.CloseInternalError, err.Error())
			}
			go func() {
				o.Note = "sent"
				wsjson.Send(c, o)
			}()
		},
	}
	svc := start(t, shop)
	ctx := ctxFor(t)
	url := "ws://" + svc.Addr().String() + "/"
	cc, err := lws.Dial(ctx, url, &lws.DialOptions{Protocols: []string{"shop"}})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close(lws.CloseNormal, "")
	for i, items := range [][]string{nil, {"tea"}, {strings.Repeat("biscuit ", 20000), "ü€😀", "\"quoted\"\n"}} {
		want := order{ID: i, Items: items}
		if err := wsjson.Write(ctx, cc, want); err != nil {
			t.Fatal(err)
		}
		for _, note := range []string{"received", "sent"} {
			var got order
			if err := wsjson.Read(ctx, cc, &got); err != nil {
				t.Fatal(err)
			}
			want.Note = note
			if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
				t.Fatalf("got %.80s, want %.80s", g, w)
			}
		}
	}
	if err := wsjson.Write(ctx, cc, func() {}); err == nil {
		t.Error("a func encoded")
	}
	if err := cc.WriteMessage(ctx, lws.WriteText, []byte("{")); err != nil {
		t.Fatal(err)
	}
	var o order
	var se *json.SyntaxError
	if err := wsjson.Read(ctx, cc, &o); !errors.As(err, &se) {
		t.Errorf("Read of \"not json\": %v, want a json.SyntaxError", err)
	}

	other, err := lws.Dial(ctx, url, &lws.DialOptions{Protocols: []string{"shop"}})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(lws.CloseNormal, "")
	if err := other.Ping(ctx); err != nil { // established on the server too
		t.Fatal(err)
	}
	if err := wsjson.Broadcast(svc, shop, order{ID: 99, Note: "closing soon"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*lws.ClientConn{cc, other} {
		var got order
		if err := wsjson.Read(ctx, c, &got); err != nil || got.ID != 99 || got.Note != "closing soon" {
			t.Errorf("broadcast: %+v, %v", got, err)
		}
	}
}

// TestReceiveRefusesPieces: without Reassemble, a value bigger than
// RxBufferSize arrives in pieces, and Receive says so instead of failing
// to parse half a value.
func TestReceiveRefusesPieces(t *testing.T) {
	errs := make(chan error, 16)
	svc := start(t, &lws.Protocol{
		Name:         "pieces",
		RxBufferSize: 16,
		OnReceive: func(c *lws.Conn, data []byte) {
			var o order
			errs <- wsjson.Receive(c, data, &o)
		},
	})
	ctx := ctxFor(t)
	cc, err := lws.Dial(ctx, "ws://"+svc.Addr().String()+"/", &lws.DialOptions{Protocols: []string{"pieces"}})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close(lws.CloseNormal, "")
	if err := wsjson.Write(ctx, cc, order{ID: 1, Items: []string{"a long enough list of items"}}); err != nil {
		t.Fatal(err)
	}
	if err := <-errs; !errors.Is(err, wsjson.ErrPartialMessage) {
		t.Errorf("first piece: %v, want ErrPartialMessage", err)
	}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
