package servers

import (
	"net/http"

	"github.com/lxzan/gws"
)

func init() { register("gws", startGws) }

type gwsHandler struct {
	gws.BuiltinEventHandler
	hub *hub[*gws.Conn]
}

func (g *gwsHandler) OnOpen(c *gws.Conn) { g.hub.add(c) }

func (g *gwsHandler) OnClose(c *gws.Conn, _ error) { g.hub.remove(c) }

func (g *gwsHandler) OnMessage(c *gws.Conn, m *gws.Message) {
	defer m.Close()
	if g.hub != nil && IsBroadcast(m.Bytes()) {
		b := gws.NewBroadcaster(m.Opcode, m.Bytes())
		g.hub.each(c, func(d *gws.Conn) { _ = b.Broadcast(d) })
		_ = b.Close()
		return
	}
	_ = c.WriteMessage(m.Opcode, m.Bytes())
}

// startGws is lxzan/gws's echo as its README shows it: net/http with the
// Upgrader and a ReadLoop goroutine per connection, echoing from
// OnMessage; broadcast uses gws's Broadcaster.
func startGws(o Options) (Server, error) {
	h := &gwsHandler{}
	if o.Broadcast {
		h.hub = newHub[*gws.Conn]()
	}
	up := gws.NewUpgrader(h, nil)
	return serveHTTP(o.Addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		go c.ReadLoop()
	}))
}
