package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/wsproto"
)

// kind is what one soak session does.
type kind int

const (
	kindClean     kind = iota // messages, then the closing handshake
	kindAbort                 // messages, then the socket closed without a close frame
	kindReset                 // half a frame, then RST
	kindDial                  // the library's client: messages, clean close
	kindHTTP                  // one or two plain HTTP requests
	kindHalfShake             // part of a handshake, then gone
	kindConnect               // connect and close at once
	numKinds
)

var kindNames = [numKinds]string{"clean", "abort", "reset", "dial", "http", "half-handshake", "connect-only"}

func (k kind) String() string { return kindNames[k] }

// weights of the kinds, in percent.
var kindWeights = [numKinds]int{45, 15, 10, 10, 10, 5, 5}

func pickKind(rng *rand.Rand) kind {
	n := rng.IntN(100)
	for k := kind(0); k < numKinds; k++ {
		if n < kindWeights[k] {
			return k
		}
		n -= kindWeights[k]
	}
	return kindClean
}

// session is one client of the soak.
type session struct {
	addr string
	svc  *lws.Service
	rng  *rand.Rand
	c    net.Conn
	r    *bufio.Reader
}

func (s *session) run(k kind) error {
	switch k {
	case kindClean:
		return s.clean()
	case kindAbort:
		return s.abort()
	case kindReset:
		return s.reset()
	case kindDial:
		return s.dialed()
	case kindHTTP:
		return s.http()
	case kindHalfShake:
		return s.halfHandshake()
	default:
		return s.connectOnly()
	}
}

const handshake = "GET / HTTP/1.1\r\nHost: soak\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

func (s *session) dial() error {
	c, err := net.DialTimeout("tcp", s.addr, 30*time.Second)
	if err != nil {
		return err
	}
	s.c, s.r = c, bufio.NewReader(c)
	return c.SetDeadline(time.Now().Add(60 * time.Second))
}

func (s *session) handshake() error {
	if err := s.dial(); err != nil {
		return err
	}
	if _, err := s.c.Write([]byte(handshake)); err != nil {
		return err
	}
	resp, err := http.ReadResponse(s.r, nil)
	if err != nil {
		return fmt.Errorf("handshake response: %w", err)
	}
	if resp.StatusCode != 101 {
		return fmt.Errorf("handshake status %d", resp.StatusCode)
	}
	return nil
}

// payload is a random message: letters (valid UTF-8 for text) of 0 to 32
// KiB, mostly short.
func (s *session) payload(text bool) []byte {
	n := s.rng.IntN(256)
	if s.rng.IntN(8) == 0 {
		n = s.rng.IntN(32 << 10)
	}
	b := make([]byte, n)
	for i := range b {
		if text {
			b[i] = byte('a' + s.rng.IntN(26))
		} else {
			b[i] = byte(s.rng.Uint32())
		}
	}
	return b
}

func (s *session) writeFrame(op wsproto.Opcode, payload []byte) error {
	h := wsproto.Header{Fin: true, Opcode: op, Masked: true, Mask: wsproto.NewMaskKey()}
	_, err := s.c.Write(wsproto.AppendFrame(nil, h, payload))
	return err
}

// readFrame reads one whole frame from the server.
func (s *session) readFrame() (wsproto.Header, []byte, error) {
	var hb [wsproto.MaxHeaderSize]byte
	if _, err := io.ReadFull(s.r, hb[:2]); err != nil {
		return wsproto.Header{}, nil, err
	}
	n := 2
	switch hb[1] & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if _, err := io.ReadFull(s.r, hb[2:n]); err != nil {
		return wsproto.Header{}, nil, err
	}
	h, _, err := wsproto.ParseHeader(hb[:n])
	if err != nil {
		return h, nil, err
	}
	p := make([]byte, h.Length)
	_, err = io.ReadFull(s.r, p)
	return h, p, err
}

// exchange sends some messages and checks each echo.
func (s *session) exchange() error {
	for i := s.rng.IntN(8); i >= 0; i-- {
		text := s.rng.IntN(2) == 0
		op := wsproto.OpBinary
		if text {
			op = wsproto.OpText
		}
		msg := s.payload(text)
		if err := s.writeFrame(op, msg); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		h, got, err := s.readFrame()
		if err != nil {
			return fmt.Errorf("read echo: %w", err)
		}
		if h.Opcode != op || !h.Fin || !bytes.Equal(got, msg) {
			return fmt.Errorf("echo of %d bytes (%v) came back as %d bytes (%v)", len(msg), op, len(got), h.Opcode)
		}
	}
	return nil
}

func (s *session) clean() error {
	if err := s.handshake(); err != nil {
		return err
	}
	defer s.c.Close()
	if err := s.exchange(); err != nil {
		return err
	}
	if err := s.writeFrame(wsproto.OpClose, wsproto.AppendClosePayload(nil, wsproto.CloseNormal, "bye")); err != nil {
		return err
	}
	h, p, err := s.readFrame()
	if err != nil {
		return fmt.Errorf("read close: %w", err)
	}
	if h.Opcode != wsproto.OpClose || len(p) < 2 || binary.BigEndian.Uint16(p) != 1000 {
		return fmt.Errorf("close answered with %v % x", h.Opcode, p)
	}
	if _, err := s.r.ReadByte(); err != io.EOF {
		return fmt.Errorf("after the close handshake: %v, want EOF", err)
	}
	return nil
}

func (s *session) abort() error {
	if err := s.handshake(); err != nil {
		return err
	}
	defer s.c.Close()
	if err := s.exchange(); err != nil {
		return err
	}
	// Leave an echo unread half the time, so the close is a reset.
	if s.rng.IntN(2) == 0 {
		return s.writeFrame(wsproto.OpText, []byte("unread"))
	}
	return nil
}

func (s *session) reset() error {
	if err := s.handshake(); err != nil {
		return err
	}
	defer s.c.Close()
	if err := s.exchange(); err != nil {
		return err
	}
	h := wsproto.Header{Fin: true, Opcode: wsproto.OpBinary, Masked: true, Mask: wsproto.NewMaskKey()}
	f := wsproto.AppendFrame(nil, h, make([]byte, 1000))
	if _, err := s.c.Write(f[:1+s.rng.IntN(len(f)-1)]); err != nil {
		return err
	}
	return s.c.(*net.TCPConn).SetLinger(0)
}

func (s *session) http() error {
	if err := s.dial(); err != nil {
		return err
	}
	defer s.c.Close()
	for i := s.rng.IntN(2); i >= 0; i-- {
		path, want := "/index.html", 200
		if s.rng.IntN(3) == 0 {
			path, want = "/missing", 404
		}
		if _, err := fmt.Fprintf(s.c, "GET %s HTTP/1.1\r\nHost: soak\r\n\r\n", path); err != nil {
			return err
		}
		resp, err := http.ReadResponse(s.r, nil)
		if err != nil {
			return fmt.Errorf("GET %s: %w", path, err)
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return fmt.Errorf("GET %s body: %w", path, err)
		}
		if resp.StatusCode != want {
			return fmt.Errorf("GET %s: status %d, want %d", path, resp.StatusCode, want)
		}
		if resp.Close { // an error status ends the connection
			break
		}
	}
	return nil
}

func (s *session) halfHandshake() error {
	if err := s.dial(); err != nil {
		return err
	}
	_, err := s.c.Write([]byte(handshake[:1+s.rng.IntN(len(handshake)-1)]))
	s.c.Close()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

func (s *session) connectOnly() error {
	if err := s.dial(); err != nil {
		return err
	}
	return s.c.Close()
}
