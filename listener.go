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

// listener accepts connections and hands each to a loop: on its loop
// from a non-blocking socket, or on the portable backend from a
// net.Listener, whose acceptor goroutine hands them over.
type listener struct {
	loop   *serviceLoop
	fd     int          // -1 on the portable backend
	acc    *netAcceptor // the portable backend's acceptor
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

// listen opens the service's listener on l (not accepting until start):
// a non-blocking listening TCP socket, or a net.Listener on the portable
// backend. An empty host listens on every address (IPv6 dual-stack when
// available, else IPv4).
func listen(l *serviceLoop, addr string) (*listener, error) {
	if l.portable {
		nl, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("lws: listen on %s: %w", addr, err)
		}
		ln := &listener{loop: l, fd: -1, addr: nl.Addr().(*net.TCPAddr)}
		ln.acc = newNetAcceptor(nl)
		return ln, nil
	}
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
	return &listener{loop: l, fd: fd, addr: net.TCPAddrFromAddrPort(local)}, nil
}

// start starts accepting. When it fails the listener is closed.
func (ln *listener) start() error {
	if ln.acc != nil {
		ln.acc.start(ln.acceptedNet, ln.acceptFailed)
		return nil
	}
	if err := ln.loop.ev.Add(ln.fd, ln, evloop.Readable); err != nil {
		sockio.Close(ln.fd)
		return err
	}
	return nil
}

// close closes the listener (stop first).
func (ln *listener) close() {
	if ln.acc != nil {
		_ = ln.acc.close()
		return
	}
	sockio.Close(ln.fd)
}

// OnEvents accepts a batch of pending connections.
func (ln *listener) OnEvents(fd int, ev evloop.Events) {
	for i := 0; i < acceptBatch; i++ {
		nfd, remote, err := sockio.Accept(ln.fd, &ln.peer)
		switch {
		case err == nil:
		case err == sockio.ErrAgain:
			return
		case err == sockio.ErrConnAborted:
			continue
		default:
			if d := ln.acceptFailed(err); d > 0 {
				ln.pause(d)
			}
			return
		}
		ln.admit(socket{fd: nfd}, remote, ln.loop.ev.Now(), true)
	}
}

// acceptFailed reports an accept error and says how long to stop
// accepting, for both kinds of listener (on the portable backend it runs
// on the acceptor's goroutine, which owns the refusal count then). Out of
// descriptors or memory, the listener pauses for acceptPauseOnFull rather
// than spin on a connection it cannot take, and says so at most once per
// warnInterval; any other error is logged and 0 leaves the wait to the
// caller (the descriptor listener waits for the next readiness, the
// portable acceptor backs off).
func (ln *listener) acceptFailed(err error) time.Duration {
	if sockio.OutOfResources(err) {
		ln.refuse(time.Now(), fmt.Sprintf("accept: %v; pausing accept for %v", err, acceptPauseOnFull))
		return acceptPauseOnFull
	}
	logging.Errf("accept: %v", err)
	return 0
}

// acceptedNet takes a connection the portable backend's acceptor accepted
// (on its goroutine, which owns the refusal count then) to a loop.
func (ln *listener) acceptedNet(nc net.Conn) {
	ln.admit(socket{nc: nc}, remoteAddrPort(nc.RemoteAddr()), time.Now(), false)
}

// admit takes an accepted socket to a loop, or refuses it at the
// connection limit. onLoop says the caller runs on the listener's loop,
// which then adopts what it keeps at once; other loops get it handed over.
func (ln *listener) admit(sock socket, remote netip.AddrPort, now time.Time, onLoop bool) {
	s := ln.loop.svc
	if sock.nc == nil && sock.fd >= s.table.Size() || s.live.Load() >= int64(s.maxConns) || s.closing.Load() {
		sock.close()
		ln.refuse(now, fmt.Sprintf("at the connection limit (%d): refusing new connections", s.maxConns))
		return
	}
	ln.refused = 0
	sock.setNoDelay()
	target := s.loopFor()
	if onLoop && target == ln.loop {
		target.adoptAccepted(sock, remote)
	} else {
		target.handOff(sock, remote) // handoff.go
	}
}

// adoptAccepted makes an accepted socket a connection of the loop, with
// TLS when the service serves it.
func (l *serviceLoop) adoptAccepted(sock socket, remote netip.AddrPort) {
	c := l.adopt(sock, remote)
	if c != nil && l.svc.cfg.TLS != nil {
		c.startTLS(tlsconn.NewServer(l.svc.cfg.TLS), nil)
	}
}

// adopt makes an accepted socket a connection of the loop, reading its HTTP
// request head; it returns nil (socket closed) when the loop cannot take
// it.
func (l *serviceLoop) adopt(sock socket, remote netip.AddrPort) *Conn {
	c := &Conn{loop: l, remote: remote, state: stateHTTP, http: l.getHTTPState()}
	if err := c.sockAttach(sock, evloop.Readable); err != nil {
		return nil
	}
	l.conns.add(c)
	l.svc.live.Add(1)
	c.setDeadline(l.svc.limits.HandshakeTimeout)
	return c
}

// refuse logs one warning per burst of refused connections.
func (ln *listener) refuse(now time.Time, why string) {
	ln.refused++
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

// stop stops accepting (Shutdown); the socket is closed by close. The
// portable backend's acceptor cannot stop but by closing its listener.
func (ln *listener) stop() {
	if ln.closed {
		return
	}
	ln.closed = true
	if ln.acc != nil {
		_ = ln.acc.close()
		return
	}
	_ = ln.loop.ev.Remove(ln.fd)
}
