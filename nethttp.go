package lws

// Upgrading from a net/http handler.
//
// The request is validated by the same checkUpgrade as the native server's,
// then the connection is hijacked from net/http and its socket handed to a
// service loop: the descriptor is duplicated out of the net.Conn (which is
// then closed, so Go's runtime poller forgets it) and the loop answers 101
// on it. After Upgrade returns no goroutine of net/http or of ours is left
// for the connection, exactly as for one the service accepted itself.
//
// A connection without a socket of its own to hand over, above all TLS
// served by net/http (*tls.Conn: the socket carries TLS records that only
// crypto/tls can read), is bridged instead: the loop gets one end of a
// socketpair and two goroutines copy between the other end and the
// net.Conn. That works with any net.Conn, at the price of those two
// goroutines and their copy buffers per connection.

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lws-go/lws/httpd"
	"github.com/lws-go/lws/internal/sockio"
	"github.com/lws-go/lws/logging"
)

// UpgradeError is returned by Service.Upgrade when it refused a request;
// the response with Status has already been written.
type UpgradeError struct {
	Status int    // HTTP status sent: 400, 403, 404, 426, 500 or 503
	Reason string // why, as sent in the response body
}

func (e *UpgradeError) Error() string {
	return "lws: WebSocket upgrade refused with " + strconv.Itoa(e.Status) + ": " + e.Reason
}

// Handler returns an http.Handler that upgrades every request it gets with
// Upgrade, so a program keeps its own http.Server, router and middleware
// and its WebSocket connections are still served by the service's loops:
//
//	mux.Handle("/ws", svc.Handler())
//
// The service is created without Config.Addr (or with one: both can serve
// at once) and must be running (Service.Run) for connections to be served.
// A request that is not a valid WebSocket handshake gets the same status
// the native server would send (426 for a plain HTTP request).
func (s *Service) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = s.Upgrade(w, r)
	})
}

// Upgrade answers a WebSocket handshake request received by a net/http
// handler and hands the connection to one of the service's loops, where
// it is served like a connection the service accepted itself: the same
// validation (Config.CheckOrigin included; there HTTPRequest.Conn is nil
// and CheckOrigin runs on the handler's goroutine), the same protocol
// choice from Config.Protocols by path and subprotocol (Protocol.Path),
// the same callbacks on the loop goroutine. It is UpgradeWith with no
// options.
//
// The header fields set on w.Header() before the call go out with the 101
// response (a Set-Cookie of the program's session middleware, say), except
// those of one hop or of the handshake itself (Connection, Upgrade,
// Content-Length, Transfer-Encoding, Sec-WebSocket-*...). A field name
// that is not a token or a value holding a control character (CR or LF:
// header injection) refuses the upgrade with 500.
//
// On success the 101 response is written by the loop, the handler must not
// use w or r any more, and no goroutine remains for the connection. Bytes
// the client sent after its handshake and net/http already read are
// delivered first. In OnEstablished, Conn.Request is r.
//
// An upgraded connection belongs to the service, not to the http.Server:
// http.Server.Shutdown and Close do not see hijacked connections, so they
// neither wait for nor close it. Shut the service down as well
// (Service.Shutdown, after the http.Server's, sends 1001 "going away" to
// every upgraded connection and waits for them).
//
// When the request is refused, Upgrade writes the error response and
// returns an *UpgradeError. Other errors (the ResponseWriter cannot be
// hijacked, the service is closed) also answer with 500 or 503 when
// nothing was hijacked yet.
//
// TLS served by net/http works: a *tls.Conn has no socket the loop could
// read (its bytes are TLS records), so it is bridged through a socketpair
// with two goroutines per connection copying between them. That keeps
// every behaviour but not the loop's memory profile; to have that with
// TLS, terminate TLS in front of the program (a proxy) or use a service
// of its own. The same bridge serves any other net.Conn that does not
// expose a socket (syscall.Conn).
func (s *Service) Upgrade(w http.ResponseWriter, r *http.Request) error {
	return s.UpgradeWith(w, r, UpgradeOptions{})
}

// UpgradeWith is Upgrade with per-connection options: the protocol the
// handler's route serves (UpgradeOptions.Protocol) and the connection's
// user value, set before OnEstablished runs (UpgradeOptions.User). A
// middleware that authenticated the request upgrades it this way:
//
//	mux.HandleFunc("/chat", func(w http.ResponseWriter, r *http.Request) {
//		user, ok := authenticate(r)
//		if !ok {
//			http.Error(w, "who are you?", http.StatusUnauthorized)
//			return
//		}
//		http.SetCookie(w, &http.Cookie{Name: "session", Value: user.Session})
//		svc.UpgradeWith(w, r, lws.UpgradeOptions{Protocol: chat, User: user})
//	})
func (s *Service) UpgradeWith(w http.ResponseWriter, r *http.Request, opts UpgradeOptions) error {
	if s.closing.Load() {
		return s.refuseHTTP(w, r, 503, "service is shutting down")
	}
	req := httpdRequest(r)
	p, offered, refusal := s.checkUpgrade(req, nil, opts.Protocol)
	if refusal != nil {
		for _, f := range refusal.extra {
			w.Header().Set(f.Name, f.Value)
		}
		return s.refuseHTTP(w, r, refusal.status, refusal.why)
	}
	header, err := responseHeaderLines(w.Header()) // upgrade_options.go
	if err != nil {
		logging.Errf("net/http upgrade from %s: %v", r.RemoteAddr, err)
		return s.refuseHTTP(w, r, 500, "invalid response header")
	}
	if s.live.Load() >= int64(s.maxConns) {
		logging.Warnf("net/http upgrade: at the connection limit (%d): refusing", s.maxConns)
		return s.refuseHTTP(w, r, 503, "too many connections")
	}

	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		logging.Errf("net/http upgrade from %s: cannot hijack the connection: %v", r.RemoteAddr, err)
		http.Error(w, "cannot take over the connection", 500)
		return fmt.Errorf("lws: hijacking the connection: %w", err)
	}
	var buffered []byte
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		buffered = append([]byte(nil), b...)
	}
	remote := remoteAddrPort(nc.RemoteAddr())

	l := s.loopFor()
	sock, err := l.takeOver(nc)
	if err != nil {
		logging.Errf("net/http upgrade from %s: %v", r.RemoteAddr, err)
		writeRawError(nc, 500, "cannot take over the connection")
		nc.Close()
		return err
	}
	if sock.nc == nil && sock.fd >= s.table.Size() {
		_, _ = sockio.Write(sock.fd, httpd.AppendErrorResponse(nil, 503, "too many connections"))
		sockio.Close(sock.fd)
		logging.Warnf("net/http upgrade: descriptor %d beyond the connection table (%d slots): refusing", sock.fd, s.table.Size())
		return &UpgradeError{Status: 503, Reason: "too many connections"}
	}
	u := &netUpgrade{sock: sock, remote: remote, req: req, r: r, p: p, offered: offered, header: header, user: opts.User, buffered: buffered}
	if err := l.ev.Post(func() { l.adoptUpgraded(u) }); err != nil {
		sock.close()
		return ErrServiceClosed
	}
	return nil
}

// refuseHTTP answers a refused upgrade through net/http.
func (s *Service) refuseHTTP(w http.ResponseWriter, r *http.Request, status int, why string) error {
	if logging.Enabled(logging.Info) {
		logging.Infof("net/http upgrade from %s refused with %d: %s", r.RemoteAddr, status, why)
	}
	http.Error(w, why, status)
	return &UpgradeError{Status: status, Reason: why}
}

// netUpgrade is a connection upgraded from net/http on its way to a loop.
type netUpgrade struct {
	sock     socket
	remote   netip.AddrPort
	req      *httpd.Request // r for the handshake
	r        *http.Request
	p        *Protocol
	offered  bool   // the client sent a subprotocol list
	header   []byte // response header lines from the ResponseWriter
	user     any    // UpgradeOptions.User
	buffered []byte // what net/http read past the request head
}

// adoptUpgraded makes a handed-over socket a connection of the loop and
// completes its handshake, then feeds it what net/http had already read.
func (l *serviceLoop) adoptUpgraded(u *netUpgrade) {
	if l.svc.closing.Load() {
		u.sock.close()
		return
	}
	c := l.adopt(u.sock, u.remote)
	if c == nil {
		return
	}
	c.user = u.user
	c.acceptUpgrade(u.req, u.p, u.offered, u.r, u.header)
	if len(u.buffered) > 0 && c.state == stateWS {
		// What net/http read ahead comes before anything on the socket:
		// it is kept input, consumed now unless OnEstablished paused
		// reading.
		c.keep(u.buffered)
		c.resumeInput()
	}
}

// httpdRequest is the native server's view of a net/http request, for the
// shared validation.
func httpdRequest(r *http.Request) *httpd.Request {
	req := &httpd.Request{
		Method:        r.Method,
		Target:        r.RequestURI,
		Path:          r.URL.Path,
		RawQuery:      r.URL.RawQuery,
		Major:         r.ProtoMajor,
		Minor:         r.ProtoMinor,
		Host:          r.Host,
		ContentLength: r.ContentLength,
	}
	for name, values := range r.Header {
		name = strings.ToLower(name)
		for _, v := range values {
			req.Header = append(req.Header, httpd.Field{Name: name, Value: v})
		}
	}
	return req
}

func remoteAddrPort(a net.Addr) netip.AddrPort {
	if ta, ok := a.(*net.TCPAddr); ok {
		ap := ta.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

// takeOver makes a hijacked connection a socket for l: on the portable
// backend the net.Conn itself, else what handOver makes of it.
func (l *serviceLoop) takeOver(nc net.Conn) (socket, error) {
	if l.portable {
		_ = nc.SetDeadline(time.Time{}) // the http.Server's deadlines no longer apply
		return socket{nc: nc}, nil
	}
	fd, err := handOver(nc)
	return socket{fd: fd}, err
}

// handOver takes a hijacked connection's socket out of Go's runtime: a
// non-blocking duplicate of its descriptor, with the net.Conn closed. A
// connection without a socket of its own (TLS, wrappers) is bridged.
func handOver(nc net.Conn) (int, error) {
	if _, isTLS := nc.(*tls.Conn); !isTLS {
		if fd, err := sockio.DupConn(nc); err == nil {
			nc.Close()
			return fd, nil
		}
	}
	return bridge(nc)
}

// bridge connects nc to one end of a socketpair, returned for the loop,
// with two goroutines copying between nc and the other end. A clean end of
// input is passed on as a half close, so the closing handshake and the
// lingering close work through it; an error closes both sides.
func bridge(nc net.Conn) (int, error) {
	fds, err := sockio.Socketpair()
	if err != nil {
		return -1, fmt.Errorf("lws: socketpair for a bridged connection: %w", err)
	}
	f := os.NewFile(uintptr(fds[1]), "lws-bridge")
	fc, err := net.FileConn(f) // dups fds[1]
	f.Close()
	if err != nil {
		sockio.Close(fds[0])
		return -1, fmt.Errorf("lws: bridged connection: %w", err)
	}
	pc := fc.(*net.UnixConn)
	_ = nc.SetDeadline(time.Time{}) // the http.Server's deadlines no longer apply

	var done atomic.Int32
	finish := func(err error, halfClose func() error) {
		if err != nil || halfClose() != nil {
			nc.Close()
			pc.Close()
		}
		if done.Add(1) == 2 {
			nc.Close()
			pc.Close()
		}
	}
	go func() {
		_, err := io.Copy(pc, nc)
		finish(err, pc.CloseWrite)
	}()
	go func() {
		_, err := io.Copy(nc, pc)
		finish(err, func() error { return closeWrite(nc) })
	}()
	return fds[0], nil
}

// closeWrite ends what we send on nc but keeps reading: a close_notify
// alert for TLS, a half close for TCP; a connection without either is
// closed.
func closeWrite(nc net.Conn) error {
	if cw, ok := nc.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nc.Close()
}

// writeRawError writes a minimal error response on a hijacked connection.
func writeRawError(nc net.Conn, status int, msg string) {
	_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = nc.Write(httpd.AppendErrorResponse(nil, status, msg))
}
