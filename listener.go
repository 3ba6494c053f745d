package lws

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/lws-go/lws/evloop"
	"github.com/lws-go/lws/logging"
	"golang.org/x/sys/unix"
)

// listener accepts connections on its loop and hands each to a loop.
type listener struct {
	loop   *serviceLoop
	fd     int
	addr   *net.TCPAddr
	paused bool
	rsa    unix.RawSockaddrAny // peer address of the last accept, reused
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
	fd, err := listenIP(ip.Unmap(), port)
	if err != nil && host == "" {
		fd, err = listenIP(netip.IPv4Unspecified(), port)
	}
	if err != nil {
		return nil, fmt.Errorf("lws: listen on %s: %w", addr, err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("lws: getsockname: %w", err)
	}
	return &listener{fd: fd, addr: tcpAddr(sa)}, nil
}

func listenIP(ip netip.Addr, port int) (int, error) {
	family := unix.AF_INET
	if ip.Is6() {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		unix.Close(fd)
		return -1, err
	}
	var sa unix.Sockaddr
	if ip.Is6() {
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0)
		sa = &unix.SockaddrInet6{Port: port, Addr: ip.As16()}
	} else {
		sa = &unix.SockaddrInet4{Port: port, Addr: ip.As4()}
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if err := unix.Listen(fd, listenBacklog); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

func tcpAddr(sa unix.Sockaddr) *net.TCPAddr {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]).To16(), Port: a.Port}
	case *unix.SockaddrInet6:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]), Port: a.Port}
	}
	return &net.TCPAddr{}
}

// OnEvents accepts a batch of pending connections.
func (ln *listener) OnEvents(fd int, ev evloop.Events) {
	s := ln.loop.svc
	for i := 0; i < acceptBatch; i++ {
		nfd, remote, err := acceptRaw(ln.fd, &ln.rsa)
		switch err {
		case nil:
		case unix.EAGAIN, unix.EINTR, unix.ECONNABORTED:
			if err == unix.EAGAIN {
				return
			}
			continue
		case unix.EMFILE, unix.ENFILE, unix.ENOBUFS, unix.ENOMEM:
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
			unix.Close(nfd)
			ln.refuse(fmt.Sprintf("at the connection limit (%d): refusing new connections", s.maxConns))
			continue
		}
		ln.refused = 0
		_ = unix.SetsockoptInt(nfd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		target := s.loopFor()
		if target == ln.loop {
			target.adoptAccepted(nfd, remote) // tls.go
		} else {
			target.handOff(nfd, remote) // handoff.go
		}
	}
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
