package browsertest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/chromedp/cdproto"
	"github.com/chromedp/cdproto/cdp/jsonv2"
	"github.com/chromedp/chromedp"
	"github.com/lws-go/lws"
	"github.com/lws-go/lws/wsproto"
)

// DevTools messages reach Chromium over our own client: the allocator
// below dials the browser's DevTools WebSocket with lws.Dial, so the test
// also runs the library's client against a real, non-Go server (with
// messages of a few hundred kilobytes: screenshots travel as base64 JSON).

// maxDevToolsMessage bounds one DevTools message (Chromium accepts up to
// 100 MiB; a screenshot is far less).
const maxDevToolsMessage = 100 << 20

// lwsAllocator is a chromedp.Allocator for a browser that runs already,
// reached at its DevTools WebSocket URL through lws.Dial.
type lwsAllocator struct {
	url string
	wg  sync.WaitGroup
}

func newLWSAllocator(parent context.Context, url string) (context.Context, context.CancelFunc) {
	return chromedp.NewAllocatorContext(parent, &lwsAllocator{url: url})
}

// Allocate dials the browser and hands the connection to chromedp; when
// ctx ends, chromedp closes the pages and then the connection.
func (a *lwsAllocator) Allocate(ctx context.Context, opts ...chromedp.BrowserOption) (*chromedp.Browser, error) {
	bctx, cancel := context.WithCancel(context.Background())
	a.wg.Go(func() {
		<-ctx.Done()
		chromedp.Cancel(ctx) // waits for the pages to close
		cancel()
	})
	dctx, dcancel := context.WithTimeout(ctx, 30*time.Second)
	defer dcancel()
	conn, err := lws.Dial(dctx, a.url, &lws.DialOptions{MaxMessageSize: maxDevToolsMessage})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("dialing Chromium's DevTools at %s: %w", a.url, err)
	}
	return chromedp.NewBrowserTransport(bctx, &lwsTransport{conn: conn}, opts...)
}

func (a *lwsAllocator) Wait() { a.wg.Wait() }

// lwsTransport is a chromedp.Transport on an lws.ClientConn: one JSON
// message per TEXT message.
type lwsTransport struct {
	conn *lws.ClientConn
}

func (t *lwsTransport) Read(ctx context.Context, msg *cdproto.Message) error {
	op, data, err := t.conn.ReadMessage(ctx)
	if err != nil {
		return err
	}
	if op != lws.WriteText {
		return fmt.Errorf("DevTools sent a %v message; expected text", op)
	}
	return jsonv2.Unmarshal(data, msg, chromedp.DefaultUnmarshalOptions)
}

// Write sends one message. chromedp still writes while it shuts down (the
// commands that close the pages), so the write outlives ctx's
// cancellation, bounded by a timeout of its own.
func (t *lwsTransport) Write(ctx context.Context, msg *cdproto.Message) error {
	data, err := jsonv2.Marshal(msg, chromedp.DefaultMarshalOptions)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return t.conn.WriteMessage(wctx, lws.WriteText, data)
}

func (t *lwsTransport) Close() error {
	return t.conn.Close(wsproto.CloseNormal, "")
}
