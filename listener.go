package lws

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/lws-go/lws/evloop"
	"github.com/lws-go/lws/internal/sockio"
	"github.com/lws-go/lws/logging"
	"github.com/lws-go/lws/tlsconn"
)

// listener accepts connections on its loop and hands each to a loop.
type listener struct {
	loop   *serviceLoop
	fd     int
	addr   *net.TCPAddr
	paused bool
	peer   sockio.AddrBuf // peer address of the last accept, reused
	closed bool

	// one warning per burst of refusals
	refused    int
	lastWarned time.Time
}

const (
	acceptBatch = 64
	// listenBacklog is the accept queue asked for; the kernel caps it at
	// net.core.somaxconn (4096 by default). A burst of connects beyond the
	// queue is dropped by the kernel and retried by the clients a second
	// later, so it is sized for bursts rather than kept small.
	listenBacklog     = 4096
	acceptPauseOnFull = 100 * time.Millisecond
	warnInterval      = time.Second
)

// listen opens a non-blocking listening TCP socket. An empty host listens
// on every address (IPv6 dual-stack when available, else IPv4).
func listen(addr string) (*listener, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("lws: listen address %q: %w", addr, err)
	}
	var ip netip.Addr
	if host == "" {
		ip = netip.IPv6Unspecified()
	} else if ip, err = netip.ParseAddr(host); err != nil {
		ips, lerr := net.DefaultResolver.LookupNetIP(context.Background(), "ip", host)
		if lerr != nil || len(ips) == 0 {
			return nil, fmt.Errorf("lws: listen address %q: cannot resolve host", addr)
		}
		ip = ips[0]
	}
	port, err := net.LookupPort("tcp", portStr)
	if err != nil {
		return nil, fmt.Errorf("lws: listen address %q: %w", addr, err)
	}
	// An empty host wants every address: IPv6 with IPv4 on the same
	// socket (dual stack), else IPv4 alone.
	dualStack := host == ""
	fd, local, err := sockio.ListenTCP(netip.AddrPortFrom(ip.Unmap(), uint16(port)), listenBacklog, dualStack)
	if err != nil && dualStack {
		fd, local, err = sockio.ListenTCP(netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(port)), listenBacklog, false)
	}
	if err != nil {
		return nil, fmt.Errorf("lws: listen on %s: %w", addr, err)
	}
	return &listener{fd: fd, addr: net.TCPAddrFromAddrPort(local)}, nil
}

// OnEvents accepts a batch of pending connections.
func (ln *listener) OnEvents(fd int, ev evloop.Events) {
	s := ln.loop.svc
	for i := 0; i < acceptBatch; i++ {
		nfd, remote, err := sockio.Accept(ln.fd, &ln.peer)
		switch {
		case err == nil:
		case err == sockio.ErrAgain:
			return
		case err == sockio.ErrConnAborted:
			continue
		case sockio.OutOfResources(err):
			// Out of descriptors: stop accepting for a moment instead of
			// spinning on a listener that stays readable.
			ln.refuse(fmt.Sprintf("accept: %v; pausing accept for %v", err, acceptPauseOnFull))
			ln.pause(acceptPauseOnFull)
			return
		default:
			logging.Errf("accept: %v", err)
			return
		}
		if nfd >= s.table.Size() || s.live.Load() >= int64(s.maxConns) || s.closing.Load() {
			sockio.Close(nfd)
			ln.refuse(fmt.Sprintf("at the connection limit (%d): refusing new connections", s.maxConns))
			continue
		}
		ln.refused = 0
		_ = sockio.SetNoDelay(nfd)
		target := s.loopFor()
		if target == ln.loop {
			target.adoptAccepted(nfd, remote)
		} else {
			target.handOff(nfd, remote) // handoff.go
		}
	}
}

// adoptAccepted makes an accepted socket a connection of the loop, with
// TLS when the service serves it.
func (l *serviceLoop) adoptAccepted(fd int, remote netip.AddrPort) {
	c := l.adopt(fd, remote)
	if c != nil && l.svc.cfg.TLS != nil {
		c.startTLS(tlsconn.NewServer(l.svc.cfg.TLS), nil)
	}
}

// adopt makes an accepted socket a connection of the loop, reading its HTTP
// request head; it returns nil (fd closed) when the fd cannot be watched.
func (l *serviceLoop) adopt(fd int, remote netip.AddrPort) *Conn {
	c := &Conn{loop: l, remote: remote, state: stateHTTP, http: l.getHTTPState()}
	if err := c.sockAttach(fd, evloop.Readable); err != nil {
		return nil
	}
	l.conns.add(c)
	l.svc.live.Add(1)
	c.setDeadline(l.svc.limits.HandshakeTimeout)
	return c
}

// refuse logs one warning per burst of refused connections.
func (ln *listener) refuse(why string) {
	ln.refused++
	now := ln.loop.ev.Now()
	if ln.refused == 1 || now.Sub(ln.lastWarned) >= warnInterval {
		logging.Warnf("%s (%d refused in this burst)", why, ln.refused)
		ln.lastWarned = now
	}
}

func (ln *listener) pause(d time.Duration) {
	if ln.paused || ln.closed {
		return
	}
	ln.paused = true
	_ = ln.loop.ev.Modify(ln.fd, 0)
	ln.loop.ev.AfterFunc(d, func() {
		if ln.closed {
			return
		}
		ln.paused = false
		_ = ln.loop.ev.Modify(ln.fd, evloop.Readable)
	})
}

// stop stops accepting (Shutdown); the socket is closed by Close.
func (ln *listener) stop() {
	if ln.closed {
		return
	}
	ln.closed = true
	_ = ln.loop.ev.Remove(ln.fd)
}
