package lws

// TLS on a connection (wss:// and https://; libwebsockets' SSL support):
// the transport's input and output go through a tlsconn.Session (tlsRead,
// tlsWrite) when the service has Config.TLS (accepted connections) or a
// client connection is secure. The handshake runs on a goroutine of the
// Session while the loop keeps serving; afterwards records are encrypted
// and decrypted on the loop. See tlsconn/doc.go for the design.

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"

	"github.com/lws-go/lws/internal/sockio"
	"github.com/lws-go/lws/logging"
	"github.com/lws-go/lws/tlsconn"
)

// tlsState is a connection's TLS session; Conn.tls is nil for plain TCP.
type tlsState struct {
	s           *tlsconn.Session
	handshaking bool
	more        bool   // the session holds input the socket will not signal: more decrypted data, or the end found after data
	owed        int    // plaintext bytes encrypted whose ciphertext is not all written yet
	outWaiting  bool   // handshake output the socket did not take: watch writability
	then        func() // run once the handshake has succeeded
}

// tlsWriteChunk bounds the plaintext encrypted per socket write, so the
// ciphertext waiting in the session stays small.
const tlsWriteChunk = 64 << 10

// prepareServerTLS completes a server configuration with lws's defaults:
// ALPN http/1.1 and TLS 1.2 at least, unless the caller chose otherwise.
func prepareServerTLS(cfg *tls.Config) *tls.Config {
	if cfg == nil {
		return nil
	}
	cfg = cfg.Clone()
	if len(cfg.NextProtos) == 0 {
		cfg.NextProtos = []string{tlsconn.ALPN}
	}
	if cfg.MinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS12
	}
	return cfg
}

// startTLS puts the connection's I/O under s and starts its handshake;
// then runs on the loop after it succeeded.
func (c *Conn) startTLS(s *tlsconn.Session, then func()) {
	t := &tlsState{s: s, handshaking: true, then: then}
	c.tls = t
	l := c.loop
	progress := func() { c.tlsProgress(t) }
	s.Start(func() { _ = l.ev.Post(progress) })
}

// tlsProgress runs on the loop when the handshake goroutine wrote output
// or ended.
func (c *Conn) tlsProgress(t *tlsState) {
	if c.state == stateDead || c.tls != t {
		return
	}
	if !c.tlsFlush() {
		return
	}
	if !t.handshaking {
		return
	}
	done, err := t.s.Done()
	if !done {
		return
	}
	t.handshaking = false
	if err != nil {
		switch {
		case !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF):
			err = fmt.Errorf("lws: TLS handshake: %w", err)
		case c.cl != nil:
			err = errors.New("lws: server closed the connection during the TLS handshake")
		default:
			err = errors.New("lws: client closed the connection during the TLS handshake")
		}
		if c.cl != nil {
			c.failClient(err)
			return
		}
		c.logInfo("%v", err)
		c.closeNow()
		return
	}
	if logging.Enabled(logging.Info) {
		st := t.s.ConnectionState()
		c.logInfo("TLS %s established (%s, ALPN %q, SNI %q)", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite), st.NegotiatedProtocol, st.ServerName)
	}
	if t.then != nil {
		t.then()
	}
	// Records that arrived with the handshake's last flight are already
	// in the session: the socket will not signal them.
	if c.canRead() {
		c.readable()
	}
}

// tlsInputEnded hands the end of the socket's input (io.EOF, or the read
// or write error) to the handshake rather than failing the connection at
// once: the handshake goroutine reads it and ends, and tlsProgress reports
// how. So the handshake's own error comes first when it has one: a server
// closes the connection as soon as our alert refused its certificate, and
// that end reaches the loop before, or after, the goroutine's news. Reading
// stops meanwhile (the socket would report its end again and again); the
// handshake deadline still bounds the wait.
func (c *Conn) tlsInputEnded(err error) {
	c.tls.s.EndInput(err)
	if !c.rxEnded {
		c.rxEnded = true
		c.updateEvents()
	}
}

// tlsFlush writes ciphertext the session holds; it reports false when the
// connection died.
func (c *Conn) tlsFlush() bool {
	t := c.tls
	pending, err := t.s.Flush(c.sockWrite)
	if err != nil && err != sockio.ErrAgain {
		if t.handshaking {
			t.outWaiting = false
			c.tlsInputEnded(err)
			return true
		}
		c.logInfo("write: %v", err)
		c.closeNow()
		return false
	}
	if t.handshaking && pending != t.outWaiting {
		t.outWaiting = pending
		c.updateEvents()
	}
	return true
}

// tlsHandshakeOut reports whether handshake output waits for the socket
// (wantEvents asks for writability then).
func (c *Conn) tlsHandshakeOut() bool { return c.tls != nil && c.tls.outWaiting }

// tlsWritable handles writability during the handshake; it reports
// whether it did.
func (c *Conn) tlsWritable() bool {
	if c.tls == nil || !c.tls.handshaking {
		return false
	}
	c.tlsFlush()
	return true
}

// tlsRead reads plaintext decrypted from the session into buf, reading
// the socket when the session needs ciphertext (and, during the
// handshake, only feeding the handshake). Its results are sockRead's.
func (c *Conn) tlsRead(buf []byte) (int, error) {
	t := c.tls
	if t.handshaking { // ciphertext for the handshake goroutine
		for {
			n, err := c.sockRead(buf)
			if n > 0 {
				if ferr := t.s.Feed(buf[:n]); ferr != nil {
					return 0, ferr
				}
				continue
			}
			if err != sockio.ErrAgain {
				c.tlsInputEnded(err)
				err = sockio.ErrAgain
			}
			return 0, err
		}
	}
	n := 0
	for {
		k, err := t.s.Read(buf[n:])
		n += k
		if n == len(buf) {
			t.more = true
			return n, nil
		}
		switch {
		case err == nil:
			continue
		case errors.Is(err, tlsconn.ErrWouldBlock):
		default:
			// The end of the stream (close_notify, io.EOF) or a record
			// that failed: data read before it goes first, and the
			// session, which keeps the error, reports it to the next
			// call; more makes sure there is one, as the socket may
			// signal nothing again.
			t.more = n > 0
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		t.more = false
		if n > 0 {
			return n, nil
		}
		r, rerr := c.sockRead(buf)
		if r <= 0 {
			return 0, rerr
		}
		if ferr := t.s.Feed(buf[:r]); ferr != nil {
			return 0, ferr
		}
	}
}

// tlsWrite encrypts b (or a first part of it) through the session and
// writes the ciphertext. Bytes count as done only when their ciphertext is
// all written; until then they stay at the front of b for the next call
// (t.owed), which gets sockio.ErrAgain.
func (c *Conn) tlsWrite(b []byte) (int, error) {
	t := c.tls
	if t.handshaking {
		return 0, sockio.ErrAgain // nothing is queued before the handshake ends
	}
	if t.owed == 0 {
		k := min(len(b), tlsWriteChunk)
		if _, err := t.s.Write(b[:k]); err != nil {
			return 0, err
		}
		t.owed = k
	}
	pending, err := t.s.Flush(c.sockWrite)
	if err != nil && err != sockio.ErrAgain {
		return 0, err
	}
	if pending {
		return 0, sockio.ErrAgain
	}
	k := t.owed
	t.owed = 0
	return k, nil
}

// tlsMore reports whether the TLS session may hold received data, or the
// end of the stream, that the socket will not signal again.
func (c *Conn) tlsMore() bool { return c.tls != nil && c.tls.more }

// tlsCloseNotify sends a close_notify alert, best effort, before the
// connection's sending side is shut.
func (c *Conn) tlsCloseNotify() {
	if t := c.tls; t != nil && !t.handshaking && t.s.CloseWrite() == nil {
		_, _ = t.s.Flush(c.sockWrite)
	}
}

// releaseTLS is closeNow's part: a handshake in progress ends.
func (c *Conn) releaseTLS() {
	if c.tls != nil {
		c.tls.s.Close()
	}
}

// TLSState is the connection's TLS state and whether it uses TLS
// (libwebsockets' lws_is_ssl); valid once the handshake has completed.
func (c *Conn) TLSState() (tls.ConnectionState, bool) {
	c.assertLoop()
	if c.tls == nil || c.tls.handshaking {
		return tls.ConnectionState{}, false
	}
	return c.tls.s.ConnectionState(), true
}

// startClientTLS starts the TLS handshake of a secure client connection
// (after the proxy's CONNECT, if any); the WebSocket request follows it.
func (c *Conn) startClientTLS() {
	cs := c.cl
	cs.phase = phaseHandshake
	c.setDeadline(cs.handshakeTimeout)
	cfg := tlsconn.ClientConfig(cs.tlsConfig, cs.host)
	c.startTLS(tlsconn.NewClient(cfg), func() {
		c.sendClientRequest()
		c.flush()
	})
}
