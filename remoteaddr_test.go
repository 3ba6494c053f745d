package lws_test

import (
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/lws-go/lws"
)

// TestRemoteAddr: the peer address decoded at accept is the client's own
// address, for IPv4 and IPv6 listeners.
func TestRemoteAddr(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		t.Run(addr, func(t *testing.T) {
			got := make(chan netip.AddrPort, 1)
			p := &lws.Protocol{Name: "p", OnEstablished: func(c *lws.Conn) { got <- c.RemoteAddr() }}
			svc, err := lws.New(lws.Config{Addr: addr, Protocols: []*lws.Protocol{p}})
			if err != nil {
				if addr[0] == '[' && os.Getenv("CI") != "true" {
					t.Skipf("no IPv6 loopback here: %v", err)
				}
				t.Fatal(err)
			}
			go svc.Run()
			defer svc.Close()
			c := dialWS(t, svc, "p")
			want := c.LocalAddr().(*net.TCPAddr).AddrPort()
			select {
			case a := <-got:
				if a != netip.AddrPortFrom(want.Addr().Unmap(), want.Port()) {
					t.Fatalf("RemoteAddr %v, want the client's %v", a, want)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("no connection")
			}
		})
	}
}
