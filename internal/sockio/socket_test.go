//go:build unix

package sockio

import (
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The tests here build on every system the package supports. On Linux
// they run both Accept (accept4 into an AddrBuf) and acceptPortable, the
// path darwin and the BSDs take, against real sockets.

// acceptFuncs are the ways a listener can accept, each with its name.
var acceptFuncs = []struct {
	name   string
	accept func(lfd int) (int, netip.AddrPort, error)
}{
	{"Accept", func(lfd int) (int, netip.AddrPort, error) {
		var buf AddrBuf
		return Accept(lfd, &buf)
	}},
	{"acceptPortable", acceptPortable},
}

// checkFlags fails the test unless fd is non-blocking and close-on-exec.
func checkFlags(t *testing.T, what string, fd int) {
	t.Helper()
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		t.Fatalf("%s: F_GETFL: %v", what, err)
	}
	if fl&unix.O_NONBLOCK == 0 {
		t.Errorf("%s (fd %d) is blocking", what, fd)
	}
	fdfl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil {
		t.Fatalf("%s: F_GETFD: %v", what, err)
	}
	if fdfl&unix.FD_CLOEXEC == 0 {
		t.Errorf("%s (fd %d) is not close-on-exec", what, fd)
	}
}

// waitFor polls fd for events, failing the test after 10 seconds.
func waitFor(t *testing.T, fd int, events int16) int16 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: events}}
		n, err := unix.Poll(pfd, 100)
		if err != nil && err != unix.EINTR {
			t.Fatalf("poll: %v", err)
		}
		if n > 0 {
			return pfd[0].Revents
		}
	}
	t.Fatalf("fd %d: no events %#x within 10s", fd, events)
	return 0
}

func listenLoopback(t *testing.T, ap netip.AddrPort, dualStack bool) (int, netip.AddrPort) {
	t.Helper()
	fd, local, err := ListenTCP(ap, 64, dualStack)
	if err != nil {
		t.Fatalf("ListenTCP(%v): %v", ap, err)
	}
	t.Cleanup(func() { Close(fd) })
	return fd, local
}

// connect starts a connect to ap and waits until it is done.
func connect(t *testing.T, ap netip.AddrPort) int {
	t.Helper()
	fd, err := Connect(ap)
	if err != nil {
		t.Fatalf("Connect(%v): %v", ap, err)
	}
	t.Cleanup(func() { Close(fd) })
	waitFor(t, fd, unix.POLLOUT)
	if err := ConnectError(fd); err != nil {
		t.Fatalf("connect to %v: %v", ap, err)
	}
	return fd
}

// acceptOne waits for a connection on lfd and accepts it.
func acceptOne(t *testing.T, accept func(int) (int, netip.AddrPort, error), lfd int) (int, netip.AddrPort) {
	t.Helper()
	for {
		fd, peer, err := accept(lfd)
		switch err {
		case nil:
			t.Cleanup(func() { Close(fd) })
			return fd, peer
		case unix.EAGAIN, unix.EINTR:
			waitFor(t, lfd, unix.POLLIN)
		default:
			t.Fatalf("accept: %v", err)
		}
	}
}

func localAddr(t *testing.T, fd int) netip.AddrPort {
	t.Helper()
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return addrPort(sa)
}

func TestListenConnectAccept(t *testing.T) {
	for _, af := range acceptFuncs {
		for _, ip := range []string{"127.0.0.1", "::1"} {
			t.Run(af.name+"/"+ip, func(t *testing.T) {
				lfd, local := listenLoopback(t, netip.AddrPortFrom(netip.MustParseAddr(ip), 0), false)
				if local.Addr() != netip.MustParseAddr(ip) || local.Port() == 0 {
					t.Fatalf("listening on %v", local)
				}
				checkFlags(t, "listening socket", lfd)
				if _, _, err := af.accept(lfd); err != unix.EAGAIN {
					t.Fatalf("accept with nobody connecting: %v, want EAGAIN", err)
				}
				cfd := connect(t, local)
				checkFlags(t, "connecting socket", cfd)
				fd, peer := acceptOne(t, af.accept, lfd)
				checkFlags(t, "accepted socket", fd)
				if want := localAddr(t, cfd); peer != want {
					t.Fatalf("peer address %v, want the client's %v", peer, want)
				}
				if n, err := Write(cfd, []byte("ping")); n != 4 || err != nil {
					t.Fatalf("write: %d, %v", n, err)
				}
				waitFor(t, fd, unix.POLLIN)
				buf := make([]byte, 8)
				if n, err := Read(fd, buf); err != nil || string(buf[:n]) != "ping" {
					t.Fatalf("read: %q, %v", buf[:n], err)
				}
			})
		}
	}
}

// TestDualStack: a dual-stack listener on [::] takes an IPv4 client, whose
// address comes out as IPv4, not IPv4-mapped IPv6.
func TestDualStack(t *testing.T) {
	for _, af := range acceptFuncs {
		t.Run(af.name, func(t *testing.T) {
			lfd, local := listenLoopback(t, netip.AddrPortFrom(netip.IPv6Unspecified(), 0), true)
			cfd := connect(t, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), local.Port()))
			_, peer := acceptOne(t, af.accept, lfd)
			if want := localAddr(t, cfd); peer != want || !peer.Addr().Is4() {
				t.Fatalf("peer address %v, want the client's %v", peer, want)
			}
		})
	}
}

func TestConnectRefused(t *testing.T) {
	// A port that was just listened on and is closed again.
	lfd, local, err := ListenTCP(netip.MustParseAddrPort("127.0.0.1:0"), 1, false)
	if err != nil {
		t.Fatal(err)
	}
	Close(lfd)
	fd, err := Connect(local)
	if err == nil {
		defer Close(fd)
		waitFor(t, fd, unix.POLLOUT)
		err = ConnectError(fd)
	}
	if !errors.Is(err, unix.ECONNREFUSED) {
		t.Fatalf("connect to a closed port: %v, want ECONNREFUSED", err)
	}
}

func TestListenAddressInUse(t *testing.T) {
	_, local := listenLoopback(t, netip.MustParseAddrPort("127.0.0.1:0"), false)
	if fd, _, err := ListenTCP(local, 1, false); !errors.Is(err, unix.EADDRINUSE) {
		if err == nil {
			Close(fd)
		}
		t.Fatalf("second listen on %v: %v, want EADDRINUSE", local, err)
	}
}

func TestSocketPortable(t *testing.T) {
	fd, err := socketPortable(unix.AF_INET6, unix.SOCK_STREAM)
	if err != nil {
		t.Fatal(err)
	}
	defer Close(fd)
	checkFlags(t, "socket", fd)
	if typ, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE); err != nil || typ != unix.SOCK_STREAM {
		t.Fatalf("socket type %d, %v, want SOCK_STREAM", typ, err)
	}
	if _, err := socketPortable(-1, unix.SOCK_STREAM); err == nil {
		t.Fatal("socket of family -1 made")
	}
}

func TestSocketpair(t *testing.T) {
	for _, sp := range []struct {
		name string
		f    func() ([2]int, error)
	}{{"Socketpair", Socketpair}, {"socketpairPortable", socketpairPortable}} {
		t.Run(sp.name, func(t *testing.T) {
			fds, err := sp.f()
			if err != nil {
				t.Fatal(err)
			}
			defer Close(fds[0])
			defer Close(fds[1])
			checkFlags(t, "first end", fds[0])
			checkFlags(t, "second end", fds[1])
			buf := make([]byte, 8)
			if _, err := Read(fds[1], buf); err != unix.EAGAIN {
				t.Fatalf("read of an empty end: %v, want EAGAIN", err)
			}
			Write(fds[0], []byte("abc"))
			if n, err := Read(fds[1], buf); err != nil || string(buf[:n]) != "abc" {
				t.Fatalf("read: %q, %v", buf[:n], err)
			}
		})
	}
}

func TestDupConn(t *testing.T) {
	client, server := tcpPair(t)
	fd, err := DupConn(server)
	server.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer Close(fd)
	checkFlags(t, "duplicate", fd)
	// The socket outlives the closed net.Conn through the duplicate.
	if n, err := Write(fd, []byte("from the dup")); n != 12 || err != nil {
		t.Fatalf("write: %d, %v", n, err)
	}
	buf := make([]byte, 12)
	client.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := client.Read(buf); err != nil || string(buf) != "from the dup" {
		t.Fatalf("client read %q, %v", buf, err)
	}

	if _, err := DupConn(tls.Client(client, &tls.Config{})); err != ErrNoSocket {
		t.Fatalf("DupConn of a TLS connection: %v, want ErrNoSocket", err)
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if _, err := DupConn(a); err != ErrNoSocket {
		t.Fatalf("DupConn of a net.Pipe: %v, want ErrNoSocket", err)
	}
}
