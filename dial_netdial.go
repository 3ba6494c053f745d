package lws

// DialOptions.NetDialContext: the program opens the connection (through a
// SOCKS proxy, over a Unix socket, from a given source address...) and the
// loop takes it over, as Service.Upgrade takes a hijacked connection: a
// duplicate of its socket, or a bridge when it has none of its own
// (handOver, nethttp.go). TLS for wss:// URLs and a proxy's CONNECT run
// over it on the loop as over a connection the loop opened.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"github.com/lws-go/lws/evloop"
)

// dialedConn is a connection opened by DialOptions.NetDialContext.
type dialedConn struct {
	nc            net.Conn
	remote, local net.Addr // the net.Conn's addresses
}

// netDial opens the connection of cs with dial (on the caller's
// goroutine, bounded by ctx and cs.connectTimeout) and hands its socket
// over to cs.
func netDial(ctx context.Context, dial func(ctx context.Context, network, addr string) (net.Conn, error), cs *clientState) error {
	ctx, cancel := context.WithTimeout(ctx, cs.connectTimeout)
	defer cancel()
	addr := net.JoinHostPort(cs.dialHost, strconv.Itoa(cs.dialPort))
	nc, err := dial(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("lws: NetDialContext %s: %w", addr, err)
	}
	if nc == nil {
		return fmt.Errorf("lws: NetDialContext %s returned no connection and no error", addr)
	}
	if _, isTLS := nc.(*tls.Conn); isTLS && cs.secure && cs.proxy == nil {
		nc.Close()
		return errors.New("lws: NetDialContext returned a *tls.Conn: return the plain connection, TLS for wss:// runs over it")
	}
	cs.dialed = &dialedConn{nc: nc, remote: nc.RemoteAddr(), local: nc.LocalAddr()}
	return nil
}

// adoptDialed adds the socket of a dialed connection to the loop, in the
// state of a connect in progress; false when it could not (the
// connection has failed).
func (c *Conn) adoptDialed() bool {
	d := c.cl.dialed
	sock, err := c.loop.takeOver(d.nc)
	d.nc = nil
	if err == nil {
		// Watched for writability, as a connect in progress: the connect
		// path finds it connected (sockConnectError) and goes on.
		err = c.sockAttach(sock, evloop.Writable)
	}
	if err != nil {
		if errors.Is(err, evloop.ErrTableFull) {
			err = ErrConnectionLimit
		}
		c.failClient(fmt.Errorf("lws: taking over the dialed connection: %w", err))
		return false
	}
	c.cl.phase = phaseConnect
	if ta, ok := d.remote.(*net.TCPAddr); ok {
		ap := ta.AddrPort()
		c.remote = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return true
}

// clientAddrs are the remote and local addresses of an established
// client connection (loop only).
func (c *Conn) clientAddrs() (remote, local net.Addr) {
	if d := c.cl.dialed; d != nil {
		return d.remote, d.local
	}
	return net.TCPAddrFromAddrPort(c.remote), c.sockLocalAddr()
}
