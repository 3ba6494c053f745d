package servers

import (
	"net"
	"net/http"

	"github.com/lesismal/nbio/logging"
	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"
)

func init() { register("nbio", startNbio) }

// startNbio is lesismal/nbio's echo: its non-blocking engine (epoll
// pollers) with the websocket Upgrader, echoing from OnMessage; broadcast
// calls WriteMessage on every connection (safe for concurrent use).
func startNbio(o Options) (Server, error) {
	logging.SetLevel(logging.LevelError)
	var h *hub[*websocket.Conn]
	if o.Broadcast {
		h = newHub[*websocket.Conn]()
	}
	up := websocket.NewUpgrader()
	up.OnMessage(func(c *websocket.Conn, mt websocket.MessageType, data []byte) {
		if h != nil && IsBroadcast(data) {
			h.each(c, func(d *websocket.Conn) { _ = d.WriteMessage(mt, data) })
			return
		}
		_ = c.WriteMessage(mt, data)
	})
	if h != nil {
		up.OnOpen(h.add)
		up.OnClose(func(c *websocket.Conn, _ error) { h.remove(c) })
	}
	// Find a port first: the engine takes an address list and does not
	// report the port it picked.
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	engine := nbhttp.NewEngine(nbhttp.Config{
		Network: "tcp",
		Addrs:   []string{addr},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = up.Upgrade(w, r, nil)
		}),
	})
	if err := engine.Start(); err != nil {
		return nil, err
	}
	return &engineServer{addr: addr, stop: func() error { engine.Stop(); return nil }}, nil
}

// engineServer is a Server that owns its listener inside a library engine.
type engineServer struct {
	addr string
	stop func() error
}

func (s *engineServer) Addr() string { return s.addr }
func (s *engineServer) Close() error { return s.stop() }
