package lws

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/lws-go/lws/evloop"
	"github.com/lws-go/lws/internal/sockio"
)

// errNetShut: writev after shutdownWrite.
var errNetShut = errors.New("lws: write after shutdown of the net socket")

const (
	// netReadMin is the first read buffer of a netSocket; it doubles
	// while reads fill it, up to netReadMax.
	netReadMin = 4 << 10
	// netReadMax is the most a netSocket reads ahead of the loop.
	// netReadMax and netWriteMax give a busy connection about the
	// buffering of a kernel socket on loopback: two lws peers that both
	// hold their reading while their output backs up (echo both ways)
	// deadlock sooner with less (the stress test found it with 256 KiB).
	// A connection keeps the large buffers only while it is busy.
	netReadMax = 1 << 20
	// netWriteMax is the most writev accepts while the writer goroutine
	// is busy: a netSocket holds at most twice this for writing (the
	// buffer being written and the one being filled).
	netWriteMax = 1 << 20
)

// netSocket serves one net.Conn to a service loop with the non-blocking
// semantics of a socket fd, for the portable backend (evloop
// BackendPortable). A reader goroutine reads one buffer at a time and waits
// until the loop has taken all of it before reading again (backpressure);
// a writer goroutine writes what the loop handed over. Both report
// readiness through notify, which must not block and may be called from
// any goroutine. The loop sees the readiness of a level-triggered poller,
// as its read and write paths expect: read and writev notify again when
// they leave the socket readable or writable, and rearm does after a
// readiness event the loop handled without either, so a loop that stops
// before the socket would block, or watches for writability only later,
// still learns it (a notification outside the loop's interest waits for
// it). read, writev, rearm, shutdownWrite and close are called by the
// loop (they are safe from any goroutine).
type netSocket struct {
	conn   net.Conn
	notify func(evloop.Events)

	mu   sync.Mutex
	rmem []byte // the read buffer: the reader fills it only when rbuf is empty
	rbuf []byte // read and not taken by the loop yet (mu)
	rerr error  // io.EOF or the read error, after rbuf (mu)

	wbuf      []byte // accepted and not handed to the writer yet (mu)
	werr      error  // the write (or CloseWrite) error (mu)
	wshut     bool   // shutdownWrite was called (mu)
	writing   bool   // the writer is in conn.Write (mu)
	linger    bool   // closed with output unwritten: the writer writes it, then closes conn (mu)
	writerEnd bool   // the writer ended on a write error: nothing more is written (mu)
	closed    bool   // close was called (mu)
	closeErr  error  // what conn.Close returned (mu)
	readMore  chan struct{}
	writeWork chan struct{}
	done      chan struct{} // closed by close
	wg        sync.WaitGroup
}

// newNetSocket starts the reader and writer goroutines of conn. notify is
// called with evloop.Readable when data, EOF or a read error arrives or is
// left after a read, and with evloop.Writable at the start, when writev
// can take more (after it returned sockio.ErrAgain, or after it took
// something and has room left), or when a write failed.
func newNetSocket(conn net.Conn, notify func(evloop.Events)) *netSocket {
	conn = sockio.WrapConn(conn) // faults, in a build with the lwsfault tag
	s := &netSocket{
		conn:      conn,
		notify:    notify,
		rmem:      make([]byte, netReadMin),
		readMore:  make(chan struct{}, 1),
		writeWork: make(chan struct{}, 1),
		done:      make(chan struct{}),
	}
	s.wg.Add(2)
	go s.readLoop()
	go s.writeLoop()
	notify(evloop.Writable) // writable from the start, as a new socket is
	return s
}

// signal leaves one wake-up in ch (capacity 1) without blocking.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// readLoop reads into rmem while the loop has taken everything read
// before, and notifies Readable for each arrival: data, EOF or an error.
func (s *netSocket) readLoop() {
	defer s.wg.Done()
	for {
		n, err := s.conn.Read(s.rmem)
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return
		}
		s.rbuf = s.rmem[:n]
		if err != nil {
			s.rerr = err
		}
		s.mu.Unlock()
		if n == 0 && err == nil {
			continue
		}
		s.notify(evloop.Readable)
		if err != nil {
			return
		}
		select {
		case <-s.readMore:
		case <-s.done:
			return
		}
		switch {
		case n == len(s.rmem) && n < netReadMax:
			s.rmem = make([]byte, 2*n)
		case n < netReadMin && len(s.rmem) > netReadMin:
			s.rmem = make([]byte, netReadMin) // quiet again: give the big one back
		}
	}
}

// read copies into p what the reader has read: (n > 0, nil); or (0,
// sockio.ErrAgain) when nothing is there now, a Readable notification then
// following when something arrives; or (0, io.EOF) at the orderly end of
// the stream; or (0, the read error); (0, net.ErrClosed) after close. An
// empty p reads (0, nil).
func (s *netSocket) read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return 0, net.ErrClosed
	case len(s.rbuf) > 0:
		n := copy(p, s.rbuf)
		s.rbuf = s.rbuf[n:]
		more := len(s.rbuf) > 0 || s.rerr != nil
		if !more {
			signal(s.readMore)
		}
		s.mu.Unlock()
		if more {
			// Still readable: say so again, as a level-triggered poller
			// would, for a loop that stops reading before it drains.
			s.notify(evloop.Readable)
		}
		return n, nil
	case s.rerr != nil:
		err := s.rerr
		s.mu.Unlock()
		return 0, err
	}
	s.mu.Unlock()
	return 0, sockio.ErrAgain
}

// writev copies as much of bufs as it takes now (up to netWriteMax
// waiting for the writer) and returns how much: the writer goroutine
// writes it in order. It returns sockio.ErrAgain when it can take nothing, a
// Writable notification then following when it can; the write error once
// a write failed; errNetShut after shutdownWrite; net.ErrClosed after
// close. Empty bufs take (0, nil).
func (s *netSocket) writev(bufs ...[]byte) (int, error) {
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return 0, net.ErrClosed
	case s.werr != nil:
		err := s.werr
		s.mu.Unlock()
		return 0, err
	case s.wshut:
		s.mu.Unlock()
		return 0, errNetShut
	}
	room := netWriteMax - len(s.wbuf)
	n, want := 0, 0
	for _, b := range bufs {
		want += len(b)
		take := min(len(b), room-n)
		s.wbuf = append(s.wbuf, b[:take]...)
		n += take
	}
	if n == 0 && want > 0 {
		s.mu.Unlock()
		return 0, sockio.ErrAgain
	}
	s.mu.Unlock()
	if n > 0 {
		signal(s.writeWork)
	}
	if n < room {
		// Still writable: say so again, as a level-triggered poller would
		// (the loop takes it when it next watches for writability).
		s.notify(evloop.Writable)
	}
	return n, nil
}

// writeLoop takes what writev accepted and writes it, then, once all is
// written after shutdownWrite, half-closes the connection.
func (s *netSocket) writeLoop() {
	defer s.wg.Done()
	var out []byte // the buffer being written; writev fills the other
	shutDone := false
	for {
		select {
		case <-s.writeWork:
		case <-s.done:
		}
		for {
			s.mu.Lock()
			if s.closed && (len(s.wbuf) == 0 || !s.linger) {
				linger := s.linger
				s.mu.Unlock()
				if linger {
					s.conn.Close() // all that was accepted is written
				}
				return
			}
			if len(s.wbuf) == 0 {
				shut := s.wshut && !shutDone
				if cap(s.wbuf) > netReadMin {
					s.wbuf = nil
				}
				s.mu.Unlock()
				out = nil // an idle socket keeps no big write buffer
				if shut {
					shutDone = true
					s.closeWrite()
				}
				break
			}
			out, s.wbuf = s.wbuf, out[:0]
			s.writing = true
			closed := s.closed
			s.mu.Unlock()
			if !closed {
				// Room again: writable, whether or not the last writev
				// came up short (one that took exactly the room left did
				// not say so, and the loop may be waiting to write more).
				s.notify(evloop.Writable)
			}
			_, err := s.conn.Write(out)
			s.mu.Lock()
			s.writing = false
			s.writerEnd = err != nil
			closed = s.closed
			s.mu.Unlock()
			if err != nil {
				if closed {
					s.conn.Close()
				} else {
					s.failWrite(err)
				}
				return
			}
		}
	}
}

// closeWrite half-closes the connection if it can (*net.TCPConn,
// *net.UnixConn; *tls.Conn sends its close_notify alert). Other conns only
// stop being written to.
func (s *netSocket) closeWrite() {
	cw, ok := s.conn.(interface{ CloseWrite() error })
	if !ok {
		return
	}
	if err := cw.CloseWrite(); err != nil {
		s.failWrite(err)
	}
}

// failWrite records a write error and notifies Writable so that the loop
// learns it from its next writev.
func (s *netSocket) failWrite(err error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.werr = err
	s.mu.Unlock()
	s.notify(evloop.Writable)
}

// rearm notifies again those of ev (Readable, Writable) that are still
// ready: input the loop has not taken (or the end of the stream, or the
// read error), room for writev (or its error). The loop calls it after it
// handled ev, which a read or writev need not have followed.
func (s *netSocket) rearm(ev evloop.Events) {
	var again evloop.Events
	s.mu.Lock()
	if !s.closed {
		if ev&evloop.Readable != 0 && (len(s.rbuf) > 0 || s.rerr != nil) {
			again |= evloop.Readable
		}
		if ev&evloop.Writable != 0 && (len(s.wbuf) < netWriteMax || s.werr != nil || s.wshut) {
			again |= evloop.Writable
		}
	}
	s.mu.Unlock()
	if again != 0 {
		s.notify(again)
	}
}

// shutdownWrite half-closes the connection once everything writev
// accepted is written; writev fails with errNetShut from now on. It
// returns at once: a failure of the final writes or of the half-close is
// reported by a Writable notification and the following writev (which
// then returns that error instead of errNetShut).
func (s *netSocket) shutdownWrite() {
	s.mu.Lock()
	if s.wshut || s.closed {
		s.mu.Unlock()
		return
	}
	s.wshut = true
	s.mu.Unlock()
	signal(s.writeWork)
}

// netCloseLinger bounds how long a closed netSocket goes on writing what
// it had accepted (a kernel socket sends its buffer after close too).
const netCloseLinger = 5 * time.Second

// close closes the connection and returns at once; no notification
// follows. When everything accepted is written, it closes the conn and
// waits for the reader and writer goroutines to end (a blocked Read or
// Write returns when the conn is closed). Else, as close(2) on a socket,
// the writer goes on writing the rest for up to netCloseLinger, then
// closes the conn; reading stops at once. Later calls return what the
// first returned.
func (s *netSocket) close() error {
	s.mu.Lock()
	if s.closed {
		linger := s.linger
		s.mu.Unlock()
		if !linger {
			s.wg.Wait()
		}
		return s.closeErr
	}
	s.closed = true
	s.rbuf = nil
	// What waits unwritten goes on being written, unless the writer
	// ended on an error: then nothing will write it, and close closes.
	s.linger = !s.writerEnd && (len(s.wbuf) > 0 || s.writing)
	close(s.done)
	if s.linger {
		s.mu.Unlock()
		past := time.Unix(1, 0)
		_ = s.conn.SetReadDeadline(past) // the reader stops
		_ = s.conn.SetWriteDeadline(time.Now().Add(netCloseLinger))
		signal(s.writeWork)
		return nil
	}
	s.mu.Unlock()
	err := s.conn.Close()
	s.wg.Wait()
	s.mu.Lock()
	s.closeErr = err
	s.mu.Unlock()
	return err
}

// Accept back-off after an error the acceptor's failed callback has no
// pause for: it starts at netAcceptBackoffMin and doubles up to
// netAcceptBackoffMax.
const (
	netAcceptBackoffMin = 5 * time.Millisecond
	netAcceptBackoffMax = time.Second
)

// netAcceptor accepts on a net.Listener in a goroutine of its own and
// hands each connection to its callback: the portable backend's listener.
type netAcceptor struct {
	ln   net.Listener
	done chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

// newNetAcceptor makes the acceptor of ln; start starts it.
func newNetAcceptor(ln net.Listener) *netAcceptor {
	return &netAcceptor{ln: ln, done: make(chan struct{})}
}

// start calls accepted with each connection the listener accepts, from
// the acceptor's goroutine, until close (accepted must hand the conn on,
// not serve it). An Accept error is passed to failed, and Accept is
// retried after the pause failed returns, or after a back-off that doubles
// with each error in a row if it returns 0; close cuts the wait short.
func (a *netAcceptor) start(accepted func(net.Conn), failed func(error) time.Duration) {
	a.wg.Add(1)
	go a.run(accepted, failed)
}

func (a *netAcceptor) run(accepted func(net.Conn), failed func(error) time.Duration) {
	defer a.wg.Done()
	backoff := time.Duration(0)
	for {
		c, err := a.ln.Accept()
		select {
		case <-a.done:
			if c != nil {
				c.Close()
			}
			return
		default:
		}
		if err == nil {
			backoff = 0
			accepted(c)
			continue
		}
		backoff = min(max(2*backoff, netAcceptBackoffMin), netAcceptBackoffMax)
		wait := failed(err)
		if wait == 0 {
			wait = backoff
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-a.done:
			t.Stop()
			return
		}
	}
}

// close closes the listener and waits for the acceptor's goroutine to
// end. Later calls return nil.
func (a *netAcceptor) close() error {
	var err error
	a.once.Do(func() {
		close(a.done)
		err = a.ln.Close()
		a.wg.Wait()
	})
	return err
}
