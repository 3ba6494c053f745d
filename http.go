package lws

import (
	"errors"
	"io"
	"os"
	"strconv"

	"github.com/lws-go/lws/httpd"
	"github.com/lws-go/lws/logging"
)

// httpState is what a connection holds while it speaks plain HTTP.
type httpState struct {
	parser httpd.Parser
	skip   int64 // request body bytes still to discard
}

func newHTTPState(l Limits) *httpState {
	h := &httpState{}
	h.parser.Reset(httpd.Limits{MaxHeaderBytes: l.MaxHeaderBytes})
	return h
}

// maxFreeHTTPStates bounds a loop's free list of HTTP states.
const maxFreeHTTPStates = 64

// getHTTPState is the HTTP state of a new connection: one from the loop's
// free list when there is one, reused with its parser's buffers, so that a
// handshake leaves little garbage (which, collected late, is what makes
// the RSS of many idle connections exceed their live heap).
func (l *serviceLoop) getHTTPState() *httpState {
	if h, ok := l.httpFree.get(); ok {
		return h
	}
	return newHTTPState(l.svc.limits)
}

// putHTTPState takes back the HTTP state of a connection that has upgraded,
// reset so it pins none of the request; the request it parsed must not be
// used afterwards (as with the next request of a keep-alive connection).
func (l *serviceLoop) putHTTPState(h *httpState) {
	if h == nil || len(l.httpFree.items) >= maxFreeHTTPStates {
		return
	}
	h.parser.Reset(httpd.Limits{MaxHeaderBytes: l.svc.limits.MaxHeaderBytes})
	h.skip = 0
	l.httpFree.put(h, maxFreeHTTPStates)
}

// HTTPRequest is a plain HTTP request being answered
// (libwebsockets' LWS_CALLBACK_HTTP). Respond, ServeFile or Error answer it;
// one of them must be called before the handler returns, else the request
// gets 404.
type HTTPRequest struct {
	*httpd.Request
	conn      *Conn
	responded bool
}

// Conn is the connection the request arrived on.
func (r *HTTPRequest) Conn() *Conn { return r.conn }

// Respond answers with status, content type and body.
func (r *HTTPRequest) Respond(status int, contentType string, body []byte) {
	if r.responded {
		return
	}
	r.responded = true
	c := r.conn
	c.queueRaw(httpd.AppendResponseHead(nil, status, contentType, int64(len(body)), c.keepAlive))
	if r.Method != "HEAD" {
		c.queueRaw(body)
	}
	c.endHTTPResponse()
	c.flush()
}

// ServeFile answers with the file urlPath names under root, streamed as the
// socket drains; escapes from root and missing files get 403 or 404.
func (r *HTTPRequest) ServeFile(root, urlPath string) {
	if r.responded {
		return
	}
	f, size, ctype, status := httpd.OpenStatic(root, urlPath)
	if f == nil {
		r.Error(status)
		return
	}
	r.responded = true
	c := r.conn
	c.queueRaw(httpd.AppendResponseHead(nil, 200, ctype, size, c.keepAlive))
	if r.Method == "HEAD" || size == 0 {
		f.Close()
		c.endHTTPResponse()
	} else {
		r := c.rareState()
		r.file, r.fileLeft = f, size
	}
	c.flush()
}

// Error answers with an error status and a short body. After a 403, 404,
// 405 or 410 a kept-alive connection goes on to its next request; after
// any other status it is closed.
func (r *HTTPRequest) Error(status int) {
	if r.responded {
		return
	}
	switch status {
	case 403, 404, 405, 410:
		r.Respond(status, "text/html; charset=utf-8", []byte(errorBody(status, "")))
		return
	}
	r.responded = true
	r.conn.respondError(status, "")
}

// consumeHTTP feeds bytes to the request parser and answers complete
// requests; an upgrade request moves the connection to WebSocket. While
// the answers already queued exceed the output limit it consumes nothing
// and holds reading (holdForBacklog).
func (c *Conn) consumeHTTP(b []byte) int {
	h := c.http
	if h.skip > 0 {
		k := int(min(h.skip, int64(len(b))))
		h.skip -= int64(k)
		return k
	}
	if c.holdForBacklog() {
		return 0
	}
	n, done, err := h.parser.Feed(b)
	if err != nil {
		status := 400
		var he *httpd.Error
		if errors.As(err, &he) {
			status = he.Status
		}
		c.logInfo("bad HTTP request: %v", err)
		c.respondError(status, "")
		return len(b)
	}
	if !done {
		return len(b)
	}
	if h.parser.BorrowRequest().Header.HasToken("upgrade", "websocket") {
		c.upgrade()
		return n
	}
	req := h.parser.Request() // handed to user code: strings of its own
	if req.Chunked {
		c.respondError(411, "chunked request bodies are not accepted")
		return len(b)
	}
	if req.ContentLength > 0 {
		h.skip = req.ContentLength
	}
	c.serveHTTP(req)
	return n
}

// serveHTTP answers one plain request; reading stops until the response is
// complete so pipelined requests are answered in order.
func (c *Conn) serveHTTP(req *httpd.Request) {
	c.clearDeadline()
	c.keepAlive = req.KeepAlive && !c.loop.svc.closing.Load()
	c.rxHeld = true
	r := &HTTPRequest{Request: req, conn: c}
	svc := c.loop.svc
	switch {
	case svc.cfg.HTTP != nil:
		c.callHTTP(r)
	case req.Method != "GET" && req.Method != "HEAD":
		r.Error(405)
	case svc.cfg.DocumentRoot != "":
		r.ServeFile(svc.cfg.DocumentRoot, req.Path)
	}
	if !r.responded && c.state == stateHTTP {
		r.Error(404)
	}
}

// endHTTPResponse runs when a response is fully queued: read the next
// request on a kept-alive connection, or close after the flush.
func (c *Conn) endHTTPResponse() {
	if c.state != stateHTTP {
		return
	}
	if !c.keepAlive || c.loop.svc.closing.Load() {
		c.beginDrain()
		return
	}
	c.http.parser.Reset(httpd.Limits{MaxHeaderBytes: c.loop.svc.limits.MaxHeaderBytes})
	c.awaitRequest()
}

// awaitRequest reads the next request of a kept-alive connection, which
// must arrive within Limits.HandshakeTimeout.
func (c *Conn) awaitRequest() {
	c.rxHeld = false
	c.setDeadline(c.loop.svc.limits.HandshakeTimeout)
	c.resumeReading()
}

// Output backpressure of plain HTTP, as for WebSocket (checkBackpressure):
// answers are queued whole, so a client pipelining requests without
// reading the answers would grow the output queue without bound. Before
// each request is read, a connection with more than
// Limits.WriteBufferSize bytes of answers waiting stops reading
// (holdForBacklog), its handshake deadline off; checkBackpressure resumes
// it (resumeHTTP) once no more than half of that waits. The queue thus
// stays within WriteBufferSize plus one answer, and a client that never
// reads is dropped by the write-stall limit.

// holdForBacklog holds reading when more than Limits.WriteBufferSize bytes
// of answers wait to be sent; it reports whether it did.
func (c *Conn) holdForBacklog() bool {
	if c.unsent() <= c.loop.svc.limits.WriteBufferSize {
		return false
	}
	c.rxHeld = true
	c.clearDeadline()
	c.updateEvents()
	return true
}

// resumeHTTP resumes reading a connection held by holdForBacklog once no
// more than half of Limits.WriteBufferSize waits; checkBackpressure calls
// it after output was sent. A streamed file body holds reading until its
// end (endHTTPResponse) and is left alone.
func (c *Conn) resumeHTTP() {
	if !c.rxHeld || c.streaming() || c.unsent() > c.loop.svc.limits.WriteBufferSize/2 {
		return
	}
	c.awaitRequest()
}

// bodyCut handles a streamed file body that cannot be completed: the file
// ended before the Content-Length sent (it shrank while being served) or
// failed to read. What was sent cannot be taken back and nothing may
// follow it on the connection, as the client would read the next answer
// as the rest of this body: the connection closes after what is queued.
func (c *Conn) bodyCut(f *os.File, left int64, err error) {
	c.keepAlive = false
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		logging.Warnf("conn %v fd %d: %s ended %d bytes short of the Content-Length sent (it changed while being served): closing the connection", c.remote, c.fd, f.Name(), left)
		return
	}
	logging.Warnf("conn %v fd %d: reading %s: %v, %d bytes of the body unsent: closing the connection", c.remote, c.fd, f.Name(), err, left)
}

// respondError answers with an error status and closes after it.
func (c *Conn) respondError(status int, msg string, extra ...httpd.Field) {
	if c.state != stateHTTP {
		return
	}
	body := errorBody(status, msg)
	c.keepAlive = false
	c.queueRaw(httpd.AppendResponseHead(nil, status, "text/html; charset=utf-8", int64(len(body)), false, extra...))
	c.queueRaw([]byte(body))
	c.drain()
}

// errorBody is the small page sent with an error status.
func errorBody(status int, msg string) string {
	if msg == "" {
		msg = httpd.StatusText(status)
	}
	return "<html><body><h1>" + strconv.Itoa(status) + " " + httpd.StatusText(status) + "</h1><p>" + htmlEscape(msg) + "</p></body></html>\n"
}

func htmlEscape(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<':
			b = append(b, "&lt;"...)
		case '>':
			b = append(b, "&gt;"...)
		case '&':
			b = append(b, "&amp;"...)
		case '"':
			b = append(b, "&quot;"...)
		default:
			b = append(b, s[i])
		}
	}
	return string(b)
}

// loadFileChunk moves the next chunk of a streamed HTTP body into the
// output queue; at the end of the file it finishes the response, and a
// file that ends early or fails to read ends the connection.
func (c *Conn) loadFileChunk() {
	const chunk = 32 << 10
	r := c.rare
	n := int(min(int64(chunk), r.fileLeft))
	c.reserve(n)
	start := len(c.out)
	c.out = c.out[:start+n]
	k, err := io.ReadFull(r.file, c.out[start:])
	c.out = c.out[:start+k]
	r.fileLeft -= int64(k)
	if err != nil || r.fileLeft <= 0 {
		if err != nil {
			c.bodyCut(r.file, r.fileLeft, err)
		}
		r.file.Close()
		r.file = nil
		c.endHTTPResponse()
	}
}
