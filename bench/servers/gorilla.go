package servers

import (
	"io"
	"net"
	"net/http"
	"sync"

	"github.com/gorilla/websocket"
)

func init() { register("gorilla", startGorilla) }

// gorillaConn serialises writes: gorilla allows one writer at a time, and a
// broadcast writes from the sender's goroutine.
type gorillaConn struct {
	ws *websocket.Conn
	mu sync.Mutex
}

// startGorilla is gorilla/websocket's echo: a goroutine per connection
// copying each message from NextReader to NextWriter; broadcast sends one
// PreparedMessage to every connection.
func startGorilla(o Options) (Server, error) {
	var h *hub[*gorillaConn]
	if o.Broadcast {
		h = newHub[*gorillaConn]()
	}
	up := websocket.Upgrader{}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c := &gorillaConn{ws: ws}
		h.add(c)
		defer func() {
			h.remove(c)
			ws.Close()
		}()
		for {
			mt, rd, err := ws.NextReader()
			if err != nil {
				return
			}
			if h != nil {
				msg, err := io.ReadAll(rd)
				if err != nil {
					return
				}
				if IsBroadcast(msg) {
					pm, err := websocket.NewPreparedMessage(mt, msg)
					if err != nil {
						return
					}
					h.each(c, func(d *gorillaConn) {
						d.mu.Lock()
						_ = d.ws.WritePreparedMessage(pm)
						d.mu.Unlock()
					})
					continue
				}
				c.mu.Lock()
				err = ws.WriteMessage(mt, msg)
				c.mu.Unlock()
				if err != nil {
					return
				}
				continue
			}
			wr, err := ws.NextWriter(mt)
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

// serveHTTP runs a net/http server with handler on addr.
func serveHTTP(addr string, handler http.Handler) (Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: handler}
	go srv.Serve(ln)
	return &netServer{ln: ln, stop: srv.Close}, nil
}
