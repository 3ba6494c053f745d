package load

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// Proto is what travels on a connection.
type Proto string

const (
	// WS is WebSocket: an upgrade, then masked frames out and unmasked in.
	WS Proto = "ws"
	// Raw is bare TCP bytes, for the raw echo floors.
	Raw Proto = "raw"
)

const handshakeTimeout = 10 * time.Second

// dial opens a blocking TCP connection to dst from src (port chosen at
// connect, so one source address serves many destinations), upgrades it
// for WS, and returns it non-blocking. rest is what arrived after the
// 101 response head.
func dial(dst netip.AddrPort, src netip.Addr, proto Proto) (fd int, rest []byte, err error) {
	fd, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, nil, err
	}
	defer func() {
		if err != nil {
			unix.Close(fd)
			fd = -1
		}
	}()
	if src.IsValid() {
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
		if err = unix.Bind(fd, &unix.SockaddrInet4{Addr: src.As4()}); err != nil {
			return -1, nil, fmt.Errorf("bind %v: %w", src, err)
		}
	}
	if err = unix.Connect(fd, &unix.SockaddrInet4{Addr: dst.Addr().As4(), Port: int(dst.Port())}); err != nil {
		return -1, nil, fmt.Errorf("connect %v: %w", dst, err)
	}
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if proto == WS {
		tv := unix.NsecToTimeval(int64(handshakeTimeout))
		_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
		if rest, err = handshake(fd, dst); err != nil {
			return -1, nil, err
		}
	}
	if err = unix.SetNonblock(fd, true); err != nil {
		return -1, nil, err
	}
	return fd, rest, nil
}

// handshake sends an upgrade request and reads the response head.
func handshake(fd int, dst netip.AddrPort) ([]byte, error) {
	req := "GET / HTTP/1.1\r\nHost: " + dst.String() +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if err := writeAll(fd, []byte(req)); err != nil {
		return nil, err
	}
	var buf [1024]byte
	have := 0
	for {
		n, err := unix.Read(fd, buf[have:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("handshake read: %w", err)
		}
		if n == 0 {
			return nil, errors.New("handshake: connection closed")
		}
		have += n
		if i := bytes.Index(buf[:have], []byte("\r\n\r\n")); i >= 0 {
			if !bytes.HasPrefix(buf[:have], []byte("HTTP/1.1 101")) {
				line, _, _ := bytes.Cut(buf[:have], []byte("\r\n"))
				return nil, fmt.Errorf("handshake refused: %q", line)
			}
			return append([]byte(nil), buf[i+4:have]...), nil
		}
		if have == len(buf) {
			return nil, errors.New("handshake: response head too long")
		}
	}
}

func writeAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// sourceAddr spreads connection i over 127.0.0.2 .. 127.0.0.251.
func sourceAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{127, 0, 0, byte(2 + i%250)})
}

// dialMany opens n connections with a few dialers at once.
func dialMany(dst netip.AddrPort, n int, proto Proto) ([]int, [][]byte, error) {
	fds := make([]int, n)
	rests := make([][]byte, n)
	const parallel = 16
	errc := make(chan error, parallel)
	next := make(chan int)
	for w := 0; w < parallel; w++ {
		go func() {
			var first error
			for i := range next {
				if first != nil {
					fds[i] = -1
					continue
				}
				fd, rest, err := dial(dst, sourceAddr(i), proto)
				if err != nil {
					first = fmt.Errorf("connection %d: %w", i, err)
					fds[i] = -1
					continue
				}
				fds[i], rests[i] = fd, rest
			}
			errc <- first
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	var err error
	for w := 0; w < parallel; w++ {
		if e := <-errc; e != nil && err == nil {
			err = e
		}
	}
	if err != nil {
		closeAll(fds)
		return nil, nil, err
	}
	return fds, rests, nil
}

func closeAll(fds []int) {
	for _, fd := range fds {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}
