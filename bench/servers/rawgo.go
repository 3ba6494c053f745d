package servers

import (
	"net"
	"sync"
)

func init() { register("raw-goroutine", startRawGo) }

// rawGoConn serialises writes between a connection's goroutine and a
// broadcast.
type rawGoConn struct {
	c  net.Conn
	mu sync.Mutex
}

// startRawGo is the goroutine-per-connection TCP floor: each read is
// written back as it is (no framing).
func startRawGo(o Options) (Server, error) {
	var h *hub[*rawGoConn]
	if o.Broadcast {
		h = newHub[*rawGoConn]()
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, err
	}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go rawGoServe(&rawGoConn{c: conn}, h)
		}
	}()
	return &netServer{ln: ln}, nil
}

func rawGoServe(c *rawGoConn, h *hub[*rawGoConn]) {
	defer c.c.Close()
	h.add(c)
	defer h.remove(c)
	buf := make([]byte, 32<<10)
	for {
		n, err := c.c.Read(buf)
		if err != nil {
			return
		}
		if h != nil && IsBroadcast(buf[:n]) {
			msg := buf[:n]
			h.each(c, func(d *rawGoConn) {
				d.mu.Lock()
				_, _ = d.c.Write(msg)
				d.mu.Unlock()
			})
			continue
		}
		c.mu.Lock()
		_, err = c.c.Write(buf[:n])
		c.mu.Unlock()
		if err != nil {
			return
		}
	}
}
