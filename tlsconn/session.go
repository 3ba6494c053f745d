package tlsconn

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// MaxHandshakeInput bounds the ciphertext a peer may have waiting, unread
// by crypto/tls, while the handshake runs (a ClientHello is a few KiB, a
// client certificate chain a few more); Feed fails beyond it.
const MaxHandshakeInput = 64 << 10

var (
	// ErrWouldBlock is what Read returns when no complete record has
	// arrived: feed more input. It is a temporary net.Error.
	ErrWouldBlock error = wouldBlock{}
	// ErrInputFull is Feed's error for a peer that sent more than
	// MaxHandshakeInput during the handshake.
	ErrInputFull = errors.New("tlsconn: too much input during the TLS handshake")
	// ErrHandshaking is returned by Read and Write before the handshake
	// has ended.
	ErrHandshaking = errors.New("tlsconn: TLS handshake in progress")
)

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "tlsconn: no complete TLS record yet" }
func (wouldBlock) Timeout() bool   { return false }
func (wouldBlock) Temporary() bool { return true } // crypto/tls keeps partial input on temporary errors

// Session is one TLS connection driven by a service loop: a tls.Conn over
// an in-memory transport whose input the loop feeds from the socket and
// whose output the loop writes to it. See the package doc for its two
// phases.
type Session struct {
	tc *tls.Conn

	mu       sync.Mutex
	cond     sync.Cond
	in       []byte // ciphertext fed, in[inOff:] not yet read by crypto/tls
	inOff    int
	out      []byte // ciphertext to send
	blocking bool   // handshake phase: the transport's Read waits for input
	closed   bool
	inEnd    error // the input ended (EndInput): what the transport's Read returns once in is read
	done     bool  // the handshake ended
	herr     error // and how
	notify   func()
}

// NewServer returns a server session (tls.Server) with cfg.
func NewServer(cfg *tls.Config) *Session {
	s := newSession()
	s.tc = tls.Server(transport{s}, cfg)
	return s
}

// NewClient returns a client session (tls.Client) with cfg, which should
// name the server (ServerName) for SNI and verification.
func NewClient(cfg *tls.Config) *Session {
	s := newSession()
	s.tc = tls.Client(transport{s}, cfg)
	return s
}

func newSession() *Session {
	s := &Session{blocking: true}
	s.cond.L = &s.mu
	return s
}

// Start runs the handshake on a goroutine of its own. notify is called
// from that goroutine whenever output is waiting (call Flush) and once
// when the handshake has ended (call Done); it should post to the loop
// and return at once.
func (s *Session) Start(notify func()) {
	s.notify = notify
	go func() {
		err := s.tc.Handshake()
		s.mu.Lock()
		s.done, s.herr, s.blocking = true, err, false
		s.mu.Unlock()
		notify()
	}()
}

// Done reports whether the handshake has ended and its error. Once it
// reports true, the Session belongs to the calling (loop) goroutine.
func (s *Session) Done() (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.done, s.herr
}

// Feed hands ciphertext read from the socket to the session (copied).
// Safe at any time.
func (s *Session) Feed(p []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return net.ErrClosed
	}
	if s.inOff > 0 && s.inOff == len(s.in) {
		s.in, s.inOff = s.in[:0], 0
	}
	if s.blocking && len(s.in)-s.inOff+len(p) > MaxHandshakeInput {
		return ErrInputFull
	}
	if s.inOff > 0 && len(s.in)+len(p) > cap(s.in) { // compact before growing
		s.in = s.in[:copy(s.in, s.in[s.inOff:])]
		s.inOff = 0
	}
	s.in = append(s.in, p...)
	s.cond.Signal()
	return nil
}

// EndInput tells the session that no more ciphertext will come: the
// stream ended (err io.EOF) or reading it failed. Once what was fed is
// read, a handshake still running reads err and ends (its goroutine calls
// notify; Done reports how it ended: an error it met before, such as a
// certificate refused, else err as crypto/tls reports it). Safe at any
// time; the first err is kept.
func (s *Session) EndInput(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inEnd == nil {
		s.inEnd = err
		s.cond.Broadcast()
	}
}

// Flush writes waiting ciphertext with write (a non-blocking socket
// write) until it is all written or write fails; pending reports whether
// output is left. Safe at any time.
func (s *Session) Flush(write func([]byte) (int, error)) (pending bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.out) > 0 {
		n, err := write(s.out)
		if n > 0 {
			s.out = s.out[:copy(s.out, s.out[n:])]
		}
		if err != nil {
			return len(s.out) > 0, err
		}
		if n == 0 {
			break
		}
	}
	if cap(s.out) > 256<<10 && len(s.out) == 0 { // do not keep a burst's buffer
		s.out = nil
	}
	return len(s.out) > 0, nil
}

// Pending reports whether ciphertext waits to be written.
func (s *Session) Pending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.out) > 0
}

// Read decrypts received application data into p (after the handshake,
// on the loop). It returns ErrWouldBlock when it needs more input, io.EOF
// after the peer's close_notify.
func (s *Session) Read(p []byte) (int, error) {
	if done, _ := s.Done(); !done {
		return 0, ErrHandshaking
	}
	return s.tc.Read(p)
}

// Write encrypts p into the output (after the handshake, on the loop);
// Flush sends it.
func (s *Session) Write(p []byte) (int, error) {
	if done, _ := s.Done(); !done {
		return 0, ErrHandshaking
	}
	return s.tc.Write(p)
}

// CloseWrite queues a close_notify alert (after the handshake, on the
// loop); Flush sends it.
func (s *Session) CloseWrite() error {
	if done, err := s.Done(); !done || err != nil {
		return ErrHandshaking
	}
	return s.tc.CloseWrite()
}

// ConnectionState is the state of the connection (after the handshake).
func (s *Session) ConnectionState() tls.ConnectionState { return s.tc.ConnectionState() }

// Close ends the session: a handshake still running fails (its goroutine
// ends and calls notify once more), later calls fail. Safe at any time.
func (s *Session) Close() {
	s.mu.Lock()
	s.closed = true
	s.in, s.out = nil, nil
	s.cond.Broadcast()
	s.mu.Unlock()
}

// transport is the in-memory net.Conn under the tls.Conn.
type transport struct{ s *Session }

func (t transport) Read(p []byte) (int, error) {
	s := t.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.blocking && !s.closed && s.inEnd == nil && s.inOff == len(s.in) {
		s.cond.Wait()
	}
	switch {
	case s.closed:
		return 0, io.EOF
	case s.inOff < len(s.in):
	case s.inEnd != nil:
		return 0, s.inEnd
	default:
		return 0, ErrWouldBlock
	}
	n := copy(p, s.in[s.inOff:])
	s.inOff += n
	return n, nil
}

func (t transport) Write(p []byte) (int, error) {
	s := t.s
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0, net.ErrClosed
	}
	s.out = append(s.out, p...)
	handshaking := s.blocking
	s.mu.Unlock()
	if handshaking && s.notify != nil {
		s.notify()
	}
	return len(p), nil
}

func (t transport) Close() error {
	t.s.Close()
	return nil
}

type memAddr struct{}

func (memAddr) Network() string { return "tlsconn" }
func (memAddr) String() string  { return "loop" }

func (transport) LocalAddr() net.Addr              { return memAddr{} }
func (transport) RemoteAddr() net.Addr             { return memAddr{} }
func (transport) SetDeadline(time.Time) error      { return nil }
func (transport) SetReadDeadline(time.Time) error  { return nil }
func (transport) SetWriteDeadline(time.Time) error { return nil }
