package lws

// Client connections (libwebsockets' lws_client_connect_via_info and the
// client half of the wsi state machine).
//
// A client connection is a Conn like an accepted one, owned by one service
// loop, with every callback on that loop. Its life before it becomes a
// WebSocket:
//
//	stateConnecting       resolving the host name (on a goroutine that posts
//	                      the answer back, so the loop never waits on DNS),
//	                      then a non-blocking connect(2) to each address in
//	                      turn until one answers
//	stateClientHandshake  the request is sent (through a CONNECT tunnel when a
//	                      proxy is used) and the response head is read and
//	                      checked as RFC 6455 section 4.1 asks
//	stateWS               established: frames are masked with a fresh key each
//
// Any failure before stateWS ends in one Protocol.OnConnectionError call
// (LWS_CALLBACK_CLIENT_CONNECTION_ERROR) with an error saying what failed;
// after it, in Protocol.OnClosed as for server connections.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lws-go/lws/evloop"
	"github.com/lws-go/lws/httpd"
	"github.com/lws-go/lws/internal/sockio"
	"github.com/lws-go/lws/wsproto"
)

// DefaultConnectTimeout bounds name resolution, the TCP connect and a
// proxy's CONNECT answer when ClientInfo.ConnectTimeout is zero.
const DefaultConnectTimeout = 20 * time.Second

// ClientInfo describes a client connection to open (libwebsockets' struct
// lws_client_connect_info). Either URL or Address (with Port, Path and
// Secure) says where to connect.
type ClientInfo struct {
	// URL is "ws://host[:port][/path][?query]" or "wss://...". When set,
	// Address, Port, Path and Secure must be left zero.
	URL string

	// Address is the server's host name or IP address (address).
	Address string
	// Port is the server's TCP port (port); 0 means 80, or 443 with Secure.
	Port int
	// Secure asks for TLS (ssl_connection; a wss:// URL).
	Secure bool
	// TLSConfig configures TLS for a secure connection (tls.go): nil
	// verifies the server's certificate against the system roots. SNI and
	// verification use the server's host name unless it sets ServerName;
	// InsecureSkipVerify, for self-signed test servers, must be chosen
	// explicitly (libwebsockets' LCCSCF_ALLOW_SELFSIGNED).
	TLSConfig *tls.Config
	// Path is the request path with an optional query (path); "" means "/".
	Path string

	// Host is the Host header (host); "" means Address, with ":Port" when
	// the port is not the scheme's default.
	Host string
	// Origin, when not empty, is sent as the Origin header (origin).
	Origin string
	// Protocols are the subprotocol names offered in Sec-WebSocket-Protocol,
	// in order of preference (protocol); empty offers none. The server's
	// choice, which must be one of them, is Conn.Subprotocol.
	Protocols []string
	// Protocol holds the callbacks of the connection. nil means the
	// service's protocol named Protocols[0].
	Protocol *Protocol
	// Header holds extra request header fields. The fields the handshake
	// itself writes (Host, Upgrade, Connection, Origin and the
	// Sec-WebSocket-* ones) may not appear here.
	Header http.Header

	// Proxy is an HTTP proxy, "http://[user:password@]host[:port]", to
	// tunnel through with CONNECT. Empty means the environment's
	// (http_proxy for ws, https_proxy for wss, both unless no_proxy
	// matches; loopback addresses are never proxied from the environment).
	Proxy string
	// NoProxy ignores the proxy environment variables.
	NoProxy bool

	// ConnectTimeout bounds name resolution, the TCP connect and the
	// proxy's answer to CONNECT. Default DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// HandshakeTimeout bounds the wait for the server's handshake response
	// once the request is sent. Default the service's
	// Limits.HandshakeTimeout.
	HandshakeTimeout time.Duration

	// User is the connection's initial per-connection value (userdata).
	User any
}

// HandshakeError is a server's handshake response that RFC 6455 section
// 4.1 tells the client to refuse: a status other than 101, missing or
// wrong Upgrade, Connection or Sec-WebSocket-Accept fields, a subprotocol
// or extension the client did not offer, or a response that is not HTTP.
// Dial returns it as is, so errors.As finds it, and errors.Is/As see
// through it to Err.
type HandshakeError struct {
	// Status is the response's status code (0 when no response was read).
	Status int
	// Header holds the response's header fields, cookies included (nil
	// when no response head was read).
	Header http.Header
	// Body is the start of the response body of a refusal (a status
	// other than 101): up to MaxHandshakeErrorBody bytes, as much as came
	// before the server ended the body, closed the connection or
	// HandshakeErrorBodyWait passed. nil when there was none.
	Body []byte
	// Msg says what was wrong, quoting the server.
	Msg string
	// Err is the underlying error, when there is one (a malformed
	// response, a refused extension negotiation), else nil.
	Err error
}

// MaxHandshakeErrorBody is the most bytes of a refusal's body that
// HandshakeError.Body keeps.
const MaxHandshakeErrorBody = 1024

// HandshakeErrorBodyWait bounds the wait for a refusal's body once its
// head has arrived (within ClientInfo.HandshakeTimeout).
const HandshakeErrorBodyWait = time.Second

func (e *HandshakeError) Error() string { return "lws: WebSocket handshake failed: " + e.Msg }

// Unwrap returns Err.
func (e *HandshakeError) Unwrap() error { return e.Err }

// ErrConnectionLimit is the error of a client connection refused because
// the service already has Service.MaxConns connections.
var ErrConnectionLimit = errors.New("lws: at the connection limit")

// clientPhase is where a client connection is inside its connecting and
// handshake states.
type clientPhase uint8

const (
	phaseResolve   clientPhase = iota // waiting for name resolution
	phaseConnect                      // connect(2) in progress
	phaseProxy                        // CONNECT sent, reading the proxy's answer
	phaseHandshake                    // request sent, reading the response head
	phaseRefusal                      // refused: reading the start of the response body
)

func (p clientPhase) String() string {
	switch p {
	case phaseResolve:
		return "resolving"
	case phaseConnect:
		return "connecting"
	case phaseProxy:
		return "proxy CONNECT"
	case phaseRefusal:
		return "handshake refusal"
	}
	return "handshake"
}

// clientState is what a client connection keeps until it is established;
// the parts needed later (subprotocol) stay.
type clientState struct {
	phase      clientPhase
	secure     bool
	host       string // server host name or address, without brackets
	port       int
	hostHeader string
	target     string // request target: path and query
	origin     string
	protocols  []string
	header     http.Header
	key        string // Sec-WebSocket-Key
	proxy      *url.URL

	connectTimeout, handshakeTimeout time.Duration

	dialHost string       // what is resolved and connected to: host or proxy
	dialPort int          //
	addrs    []netip.Addr // resolved addresses not yet tried
	lastErr  error        // the last address's failure
	cancel   context.CancelFunc
	resp     *httpd.ResponseParser
	err      error // why the connection failed

	subprotocol string
	response    *http.Response // the 101 response, from establishClient on

	refusal *handshakeRefusal // phaseRefusal (client_refusal.go)
	dialed  *dialedConn       // a connection from DialOptions.NetDialContext (dial_netdial.go)

	extOffer  string      // Sec-WebSocket-Extensions offered, "" for none (compress.go)
	tlsConfig *tls.Config // for a secure connection (tls.go)
}

// Connect opens a client connection (lws_client_connect_via_info). It
// checks info, then starts the connection on one of the service's loops
// and returns at once: the outcome is reported by the protocol's
// OnEstablished or OnConnectionError callback on that loop. The returned
// Conn identifies the connection in those callbacks; like every Conn it may
// be used only on its loop. Safe from any goroutine, the service's
// callbacks included.
func (s *Service) Connect(info ClientInfo) (*Conn, error) {
	return s.connect(info, nil)
}

// connect is Connect; prepare, when not nil, runs once info has been
// checked, before the connection starts (Dial's NetDialContext).
func (s *Service) connect(info ClientInfo, prepare func(*clientState) error) (*Conn, error) {
	cs, err := newClientState(&info)
	if err != nil {
		return nil, err
	}
	p := info.Protocol
	if p == nil {
		if len(info.Protocols) > 0 {
			for _, sp := range s.cfg.Protocols {
				if sp.Name == info.Protocols[0] {
					p = sp
					break
				}
			}
		}
		if p == nil {
			return nil, errors.New("lws: Connect: ClientInfo.Protocol is nil and the service has no protocol named by ClientInfo.Protocols[0]")
		}
	}
	if s.closing.Load() {
		return nil, ErrServiceClosed
	}
	if prepare != nil {
		if err := prepare(cs); err != nil {
			return nil, err
		}
	}
	if cs.handshakeTimeout <= 0 {
		cs.handshakeTimeout = s.limits.HandshakeTimeout
	}
	l := s.loopFor()
	c := &Conn{loop: l, transport: transport{fd: -1}, state: stateConnecting, client: true, proto: p, user: info.User, cl: cs}
	path, query, _ := strings.Cut(cs.target, "?")
	c.setTarget(path, query)
	if err := l.ev.Post(c.startClient); err != nil {
		if cs.dialed != nil {
			cs.dialed.nc.Close()
		}
		return nil, ErrServiceClosed
	}
	return c, nil
}

// newClientState checks info and works out where and what to send.
func newClientState(info *ClientInfo) (*clientState, error) {
	cs := &clientState{
		origin:           info.Origin,
		protocols:        info.Protocols,
		connectTimeout:   info.ConnectTimeout,
		handshakeTimeout: info.HandshakeTimeout,
	}
	if cs.connectTimeout <= 0 {
		cs.connectTimeout = DefaultConnectTimeout
	}
	if info.URL != "" {
		if info.Address != "" || info.Port != 0 || info.Path != "" || info.Secure {
			return nil, errors.New("lws: ClientInfo: set either URL or Address/Port/Path/Secure, not both")
		}
		if err := cs.parseURL(info.URL); err != nil {
			return nil, err
		}
	} else {
		if info.Address == "" {
			return nil, errors.New("lws: ClientInfo: no URL and no Address")
		}
		cs.host = strings.TrimSuffix(strings.TrimPrefix(info.Address, "["), "]")
		cs.port, cs.secure, cs.target = info.Port, info.Secure, info.Path
		if cs.target == "" {
			cs.target = "/"
		}
		if cs.target[0] != '/' {
			return nil, fmt.Errorf("lws: ClientInfo: path %q does not start with '/'", info.Path)
		}
	}
	if cs.port == 0 {
		cs.port = defaultPort(cs.secure)
	}
	if cs.port < 1 || cs.port > 65535 {
		return nil, fmt.Errorf("lws: ClientInfo: port %d out of range", cs.port)
	}
	if strings.ContainsAny(cs.target, " \r\n\x00#") {
		return nil, fmt.Errorf("lws: ClientInfo: invalid character in path %q", cs.target)
	}
	cs.hostHeader = info.Host
	if cs.hostHeader == "" {
		cs.hostHeader = hostPort(cs.host, cs.port, cs.port == defaultPort(cs.secure))
	}
	for _, v := range []string{cs.hostHeader, cs.origin} {
		if !validFieldValue(v) {
			return nil, fmt.Errorf("lws: ClientInfo: invalid header value %q", v)
		}
	}
	for _, p := range cs.protocols {
		if p == "" || !isToken(p) {
			return nil, fmt.Errorf("lws: ClientInfo: invalid subprotocol name %q", p)
		}
	}
	if err := checkExtraHeader(info.Header); err != nil {
		return nil, err
	}
	cs.header = info.Header
	cs.tlsConfig = info.TLSConfig
	proxy, err := proxyFor(info, cs.secure, cs.host, cs.port)
	if err != nil {
		return nil, err
	}
	cs.proxy = proxy
	cs.dialHost, cs.dialPort = cs.host, cs.port
	if proxy != nil {
		cs.dialHost, cs.dialPort = proxyAddr(proxy)
	}
	cs.key = wsproto.NewClientKey()
	return cs, nil
}

// parseURL takes host, port, path and scheme from a ws:// or wss:// URL.
func (cs *clientState) parseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("lws: client URL: %w", err)
	}
	switch strings.ToLower(u.Scheme) {
	case "ws":
	case "wss":
		cs.secure = true
	default:
		return fmt.Errorf("lws: client URL %q: scheme must be ws or wss", raw)
	}
	cs.host = u.Hostname()
	if cs.host == "" {
		return fmt.Errorf("lws: client URL %q has no host", raw)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return fmt.Errorf("lws: client URL %q: bad port", raw)
		}
		cs.port = n
	}
	cs.target = u.EscapedPath()
	if cs.target == "" {
		cs.target = "/"
	}
	if u.RawQuery != "" || u.ForceQuery {
		cs.target += "?" + u.RawQuery
	}
	return nil
}

func defaultPort(secure bool) int {
	if secure {
		return 443
	}
	return 80
}

// hostPort joins host and port for a Host header or CONNECT target,
// bracketing IPv6 addresses; omitPort leaves the port out.
func hostPort(host string, port int, omitPort bool) string {
	if strings.IndexByte(host, ':') >= 0 {
		host = "[" + host + "]"
	}
	if omitPort {
		return host
	}
	return host + ":" + strconv.Itoa(port)
}

// reservedRequestFields are written by the handshake itself.
var reservedRequestFields = []string{"host", "upgrade", "connection", "origin", "sec-websocket-key",
	"sec-websocket-version", "sec-websocket-protocol", "sec-websocket-extensions", "sec-websocket-accept"}

func checkExtraHeader(h http.Header) error {
	for name, values := range h {
		if name == "" || !isToken(name) {
			return fmt.Errorf("lws: ClientInfo.Header: invalid field name %q", name)
		}
		for _, r := range reservedRequestFields {
			if strings.EqualFold(name, r) {
				return fmt.Errorf("lws: ClientInfo.Header: %s is written by the handshake; use the ClientInfo field for it", name)
			}
		}
		for _, v := range values {
			if !validFieldValue(v) {
				return fmt.Errorf("lws: ClientInfo.Header: invalid value %q for %s", v, name)
			}
		}
	}
	return nil
}

func validFieldValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return s != ""
}

// startClient runs on the loop: it adds the connection to the loop and
// starts resolving (off the loop) or connecting.
func (c *Conn) startClient() {
	l := c.loop
	s := l.svc
	l.conns.add(c)
	s.live.Add(1)
	if c.cl.dialed != nil && !c.adoptDialed() {
		return
	}
	switch {
	case s.closing.Load():
		c.failClient(ErrServiceClosed)
		return
	case s.live.Load() > int64(s.maxConns):
		c.failClient(ErrConnectionLimit)
		return
	}
	cs := c.cl
	c.setDeadline(cs.connectTimeout)
	if cs.dialed != nil {
		return // connected: connectEvent goes on when the socket is writeable
	}
	if ip, err := netip.ParseAddr(cs.dialHost); err == nil {
		cs.addrs = []netip.Addr{ip}
		c.connectNext()
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	cs.cancel = cancel
	host := cs.dialHost
	go func() {
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		// If the loop is gone the connection was closed with it.
		_ = l.ev.Post(func() { c.resolved(ips, err) })
	}()
}

// resolved gets the answer of the name lookup.
func (c *Conn) resolved(ips []netip.Addr, err error) {
	cs := c.cl
	if c.state != stateConnecting || cs.phase != phaseResolve {
		return
	}
	cs.cancel()
	cs.cancel = nil
	if err == nil && len(ips) == 0 {
		err = errors.New("no addresses")
	}
	if err != nil {
		c.failClient(fmt.Errorf("lws: resolving %q: %w", cs.dialHost, err))
		return
	}
	cs.addrs = ips
	c.connectNext()
}

// connectNext starts a non-blocking connect to the next address, or fails
// the connection when none is left.
func (c *Conn) connectNext() {
	cs := c.cl
	cs.phase = phaseConnect
	for len(cs.addrs) > 0 {
		ip := cs.addrs[0].Unmap()
		cs.addrs = cs.addrs[1:]
		ap := netip.AddrPortFrom(ip, uint16(cs.dialPort))
		if c.loop.portable {
			c.dialNet(ap)
			return
		}
		fd, err := sockio.Connect(ap)
		if err != nil {
			cs.lastErr = fmt.Errorf("connect %v: %w", ap, err)
			continue
		}
		if err := c.sockAttach(socket{fd: fd}, evloop.Writable); err != nil {
			if errors.Is(err, evloop.ErrTableFull) {
				c.failClient(ErrConnectionLimit)
				return
			}
			cs.lastErr = fmt.Errorf("connect %v: %w", ap, err)
			continue
		}
		c.remote = ap
		return
	}
	c.failClient(fmt.Errorf("lws: %w", cs.lastErr))
}

// connectEvent handles readiness of a socket whose connect is in progress.
func (c *Conn) connectEvent(ev evloop.Events) {
	cs := c.cl
	err := c.sockConnectError()
	if err == nil && ev&evloop.Writable == 0 {
		if ev&(evloop.Hangup|evloop.Error) == 0 {
			return // not yet
		}
		err = errors.New("connection closed while connecting")
	}
	if err != nil {
		c.sockDiscard()
		cs.lastErr = fmt.Errorf("connect %v: %w", c.remote, err)
		c.connectNext()
		return
	}
	c.connected()
}

// dialNet connects to ap on the portable backend: a goroutine dials, and
// the loop takes the net.Conn it gets, or tries the next address.
func (c *Conn) dialNet(ap netip.AddrPort) {
	cs := c.cl
	l := c.loop
	ctx, cancel := context.WithCancel(context.Background())
	cs.cancel = cancel
	c.remote = ap
	go func() {
		var d net.Dialer
		nc, err := d.DialContext(ctx, "tcp", ap.String())
		if l.ev.Post(func() { c.dialed(ctx, nc, err) }) != nil && nc != nil {
			nc.Close() // the loop is gone, and the connection with it
		}
	}()
}

// dialed gets the end of dialNet's connect.
func (c *Conn) dialed(ctx context.Context, nc net.Conn, err error) {
	cs := c.cl
	if ctx.Err() != nil || c.state != stateConnecting {
		if nc != nil {
			nc.Close() // the connection was closed meanwhile
		}
		return
	}
	cs.cancel()
	cs.cancel = nil
	if err == nil {
		sock := socket{nc: nc}
		sock.setNoDelay()
		err = c.sockAttach(sock, evloop.Readable)
		if errors.Is(err, evloop.ErrTableFull) {
			c.failClient(ErrConnectionLimit)
			return
		}
	}
	if err != nil {
		cs.lastErr = fmt.Errorf("connect %v: %w", c.remote, err)
		c.connectNext()
		return
	}
	c.connected()
}

// connected starts the handshake of a client connection whose socket has
// connected: through the proxy's CONNECT first when there is one.
func (c *Conn) connected() {
	cs := c.cl
	cs.addrs = nil
	c.state = stateClientHandshake
	cs.resp = &httpd.ResponseParser{}
	cs.resp.Reset(httpd.Limits{MaxHeaderBytes: c.loop.svc.limits.MaxHeaderBytes})
	if cs.proxy != nil {
		cs.phase = phaseProxy
		c.queueRaw(appendConnectRequest(nil, hostPort(cs.host, cs.port, false), cs.proxy))
	} else {
		c.sendClientRequest()
	}
	c.flush()
}

// failClient fails a connection that is not established yet: err is what
// OnConnectionError reports.
func (c *Conn) failClient(err error) {
	if c.cl.err == nil {
		c.cl.err = err
	}
	c.logInfo("client connection failed (%v): %v", c.cl.phase, err)
	c.closeNow()
}

// clientTimedOut fails a client connection whose connecting or handshake
// took too long (deadlinePassed, keepalive.go).
func (c *Conn) clientTimedOut() {
	if c.state != stateConnecting && c.state != stateClientHandshake {
		return
	}
	d := c.cl.connectTimeout
	if c.cl.phase == phaseHandshake {
		d = c.cl.handshakeTimeout
	}
	err := fmt.Errorf("lws: %s timed out after %v", c.cl.phase, d)
	if c.cl.lastErr != nil {
		err = fmt.Errorf("%w (last error: %v)", err, c.cl.lastErr)
	}
	c.failClient(err)
}

// noteClientEOF records why the server's side of the stream ended before
// the handshake completed.
func (c *Conn) noteClientEOF(err error) {
	if c.cl == nil || c.established || c.cl.err != nil {
		return
	}
	if err == nil {
		c.cl.err = fmt.Errorf("lws: server closed the connection during the %s", c.cl.phase)
	} else {
		c.cl.err = fmt.Errorf("lws: %s: %w", c.cl.phase, err)
	}
}

// clientGone is closeNow's part for a client connection that never got
// established: stop the name lookup, report the error.
func (c *Conn) clientGone() {
	cs := c.cl
	if cs.cancel != nil {
		cs.cancel()
		cs.cancel = nil
	}
	cs.resp = nil
	err := cs.err
	if err == nil {
		if c.loop.svc.closing.Load() {
			err = ErrServiceClosed
		} else {
			err = fmt.Errorf("lws: connection closed during the %s", cs.phase)
		}
		cs.err = err
	}
	c.callConnectionError(err)
}

// Subprotocol is the negotiated subprotocol: for a client connection the
// one the server selected ("" when it selected none), for a server
// connection the name of the Protocol it is bound to.
func (c *Conn) Subprotocol() string {
	c.assertLoop()
	if c.cl != nil {
		return c.cl.subprotocol
	}
	if c.proto != nil {
		return c.proto.Name
	}
	return ""
}

// IsClient reports whether the connection was opened by Service.Connect.
func (c *Conn) IsClient() bool { return c.client }
