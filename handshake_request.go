package lws

import (
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"

	"github.com/lws-go/lws/httpd"
)

// The handshake request in OnEstablished.
//
// An idle connection keeps nothing of its handshake request but its path
// and query: the request's head is parsed in a buffer the loop reuses for
// the next connection. While OnEstablished runs, the loop remembers whose
// request it has (serviceLoop.establishing), and Conn.Request builds an
// *http.Request from it on demand, with strings of its own. So a
// connection costs no memory for its headers when OnEstablished does not
// ask for them, and none after OnEstablished returns unless the program
// keeps what it took (in the connection's user value, say).

// establishing is the connection whose OnEstablished runs on a loop, with
// its handshake request.
type establishing struct {
	c   *Conn
	req *httpd.Request // borrowed from the connection's HTTP parser
	r   *http.Request  // net/http's request, or built from req on first use
}

// Request is the HTTP request of the WebSocket handshake that established
// the connection, for OnEstablished to read its header fields, cookies,
// query or, after Service.UpgradeWith, the values its context carries
// (libwebsockets' lws_hdr_copy, lws_hdr_custom_copy). It is nil outside
// OnEstablished and for client connections: a connection does not keep its
// request's headers (they would cost memory on every idle connection);
// what is needed later is copied into the user value (Conn.SetUser).
//
// After Service.Upgrade or Service.UpgradeWith it is the request the
// net/http handler got. For a connection the service accepted itself it
// is built from the request head on the first call: Method, URL, Proto,
// Header (canonical keys), Host, RemoteAddr, RequestURI and, for wss://,
// TLS are set, the Body is empty and the context is context.Background(). The request and
// its strings belong to the caller, who may keep them.
func (c *Conn) Request() *http.Request {
	c.assertLoop()
	e := &c.loop.establishing
	if e.c != c || c.client {
		return nil
	}
	if e.r == nil {
		e.r = newHTTPRequest(e.req, c)
	}
	return e.r
}

// newHTTPRequest is req as a net/http request, with strings of its own
// (req's alias the parser's buffer).
func newHTTPRequest(req *httpd.Request, c *Conn) *http.Request {
	target := strings.Clone(req.Target)
	u, err := url.ParseRequestURI(target)
	if err != nil {
		u = &url.URL{Path: strings.Clone(req.Path), RawQuery: strings.Clone(req.RawQuery)}
	}
	r := &http.Request{
		Method:     strings.Clone(req.Method),
		URL:        u,
		Proto:      "HTTP/" + strconv.Itoa(req.Major) + "." + strconv.Itoa(req.Minor),
		ProtoMajor: req.Major,
		ProtoMinor: req.Minor,
		Header:     make(http.Header, len(req.Header)),
		Body:       http.NoBody,
		Host:       strings.Clone(req.Host),
		RemoteAddr: c.remote.String(),
		RequestURI: target,
	}
	for _, f := range req.Header {
		name := textproto.CanonicalMIMEHeaderKey(f.Name)
		if name == f.Name { // returned as it was: still the parser's
			name = strings.Clone(name)
		}
		r.Header[name] = append(r.Header[name], strings.Clone(f.Value))
	}
	if st, ok := c.TLSState(); ok {
		r.TLS = &st
	}
	return r
}
