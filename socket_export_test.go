package lws

import "github.com/lws-go/lws/internal/sockio"

// SocketFD is the descriptor of c's socket, for the tests of package
// lws_test to arm a fault-injected reset on (sockio.ResetAfter): Conn.FD
// on the descriptor backends, the descriptor under the net.Conn on the
// portable one (-1 if it has none). On c's loop only.
func SocketFD(c *Conn) int {
	if c.rare != nil && c.rare.ns != nil {
		return sockio.ConnFD(c.rare.ns.conn)
	}
	return c.fd
}
