package load

import (
	"bytes"
	"errors"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// IdleConfig configures an idle run.
type IdleConfig struct {
	Addr   string // server address, IPv4 host:port
	PID    int    // server process, for its RSS (required)
	Proto  Proto
	Conns  int           // idle connections to open
	Settle time.Duration // longest wait for the server's RSS to settle; 0 means 10s
}

// RunIdle measures the server's memory per idle connection: its RSS with
// one warm connection (which has echoed a message, so lazily created pools
// exist), then with Conns more upgraded connections that send nothing,
// each time once the RSS has settled.
func RunIdle(cfg IdleConfig) (Result, error) {
	res := Result{Mode: "idle", Proto: cfg.Proto, Conns: cfg.Conns}
	if cfg.PID <= 0 || cfg.Conns <= 0 {
		return res, errors.New("load: idle needs the server's pid and conns > 0")
	}
	if cfg.Settle <= 0 {
		cfg.Settle = 10 * time.Second
	}
	dst, err := netip.ParseAddrPort(cfg.Addr)
	if err != nil {
		return res, err
	}
	warm, _, err := dial(dst, netip.AddrFrom4([4]byte{127, 0, 0, 1}), cfg.Proto)
	if err != nil {
		return res, err
	}
	defer unix.Close(warm)
	if err := echoOnce(warm, cfg.Proto); err != nil {
		return res, err
	}
	if res.RSSBefore, err = settledRSS(cfg.PID, cfg.Settle); err != nil {
		return res, err
	}
	fds, _, err := dialMany(dst, cfg.Conns, cfg.Proto)
	if err != nil {
		return res, err
	}
	defer closeAll(fds)
	if res.RSSAfter, err = settledRSS(cfg.PID, cfg.Settle); err != nil {
		return res, err
	}
	res.Threads, _ = ProcThreads(cfg.PID)
	res.RSSPerConn = float64(res.RSSAfter-res.RSSBefore) / float64(cfg.Conns)
	var b [1]byte
	for _, fd := range fds {
		// Open and quiet: a peek would block. 0 bytes means closed.
		if _, _, err := unix.Recvfrom(fd, b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT); err == unix.EAGAIN {
			res.Alive++
		}
	}
	res.Errors = cfg.Conns - res.Alive
	return res, nil
}

// settledRSS samples the RSS until five samples in a row agree within 1%
// (or the time is up) and returns the last.
func settledRSS(pid int, limit time.Duration) (int64, error) {
	const every = 200 * time.Millisecond
	var lo, hi int64
	stable := 0
	deadline := time.Now().Add(limit)
	for {
		rss, err := ProcRSS(pid)
		if err != nil {
			return 0, err
		}
		if stable == 0 || rss < lo || rss > hi {
			lo, hi = rss-rss/200, rss+rss/200
			stable = 1
		} else {
			stable++
		}
		if stable >= 5 || time.Now().After(deadline) {
			return rss, nil
		}
		time.Sleep(every)
	}
}

// echoOnce sends one small message on a non-blocking connection and waits
// (up to 10s) for its echo.
func echoOnce(fd int, p Proto) error {
	payload := bytes.Repeat([]byte{'x'}, 32)
	frame := requestFrame(p, payload)
	if err := writeAll(fd, frame); err != nil {
		return err
	}
	want := len(payload) + 2
	if p == Raw {
		want = len(payload)
	}
	var buf [256]byte
	got := 0
	deadline := time.Now().Add(10 * time.Second)
	for got < want {
		n, err := unix.Read(fd, buf[got:])
		switch {
		case n > 0:
			got += n
		case err == unix.EAGAIN || err == unix.EINTR:
			if time.Now().After(deadline) {
				return errors.New("load: no echo within 10s")
			}
			pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			_, _ = unix.Poll(pfd, 100)
		default:
			return errors.New("load: connection closed before the echo")
		}
	}
	return nil
}
