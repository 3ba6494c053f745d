package servers

import (
	"context"
	"io"
	"net/http"

	"github.com/coder/websocket"
)

func init() { register("coder", startCoder) }

// startCoder is coder/websocket's echo: a goroutine per connection copying
// each message from Reader to Writer; broadcast calls Write on every
// connection (coder's Write is safe for concurrent use).
func startCoder(o Options) (Server, error) {
	var h *hub[*websocket.Conn]
	if o.Broadcast {
		h = newHub[*websocket.Conn]()
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		c.SetReadLimit(-1)
		h.add(c)
		defer func() {
			h.remove(c)
			c.CloseNow()
		}()
		ctx := context.Background()
		for {
			typ, rd, err := c.Reader(ctx)
			if err != nil {
				return
			}
			if h != nil {
				msg, err := io.ReadAll(rd)
				if err != nil {
					return
				}
				if IsBroadcast(msg) {
					h.each(c, func(d *websocket.Conn) { _ = d.Write(ctx, typ, msg) })
					continue
				}
				if err := c.Write(ctx, typ, msg); err != nil {
					return
				}
				continue
			}
			wr, err := c.Writer(ctx, typ)
			if err != nil {
				return
			}
			if _, err := io.Copy(wr, rd); err != nil {
				return
			}
			if err := wr.Close(); err != nil {
				return
			}
		}
	})
	return serveHTTP(o.Addr, handler)
}
