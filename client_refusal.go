package lws

// A refused handshake (a status other than 101) usually comes with a body
// saying why: the client reads the start of it, up to
// MaxHandshakeErrorBody bytes, for HandshakeError.Body before it fails the
// connection. The body is delimited as RFC 9112 section 6.3 says: chunked
// coding, else Content-Length, else the end of the connection; the wait
// for it is bounded by HandshakeErrorBodyWait.

import (
	"bytes"
	"strconv"

	"github.com/lws-go/lws/httpd"
)

// handshakeRefusal is what a client keeps while it reads a refusal's body.
type handshakeRefusal struct {
	err     *HandshakeError
	want    int64  // body bytes to keep
	chunked bool   // the body is chunked: raw holds it encoded
	raw     []byte // chunked: the encoded body so far
}

// maxRefusalRaw bounds the encoded bytes kept of a chunked body.
const maxRefusalRaw = 4 * MaxHandshakeErrorBody

// readRefusal starts reading the body of the refusal herr; rest is what
// came after the response head.
func (c *Conn) readRefusal(herr *HandshakeError, resp *httpd.Response, rest []byte) {
	cs := c.cl
	cs.err = herr // what OnConnectionError reports, however the reading ends
	want := int64(MaxHandshakeErrorBody)
	chunked := resp.Header.HasToken("transfer-encoding", "chunked")
	switch {
	case resp.Status/100 == 1 || resp.Status == 204 || resp.Status == 304:
		want = 0 // no body (RFC 9112 section 6.3, rule 1)
	case !chunked && resp.ContentLength >= 0:
		want = min(want, resp.ContentLength)
	}
	if want == 0 {
		c.failClient(herr)
		return
	}
	cs.refusal = &handshakeRefusal{err: herr, want: want, chunked: chunked}
	cs.phase = phaseRefusal
	cs.resp = nil
	c.setDeadline(min(cs.handshakeTimeout, HandshakeErrorBodyWait))
	c.consumeRefusalBody(rest)
}

// consumeRefusalBody takes body bytes of a refusal and fails the
// connection once enough has come.
func (c *Conn) consumeRefusalBody(b []byte) {
	r := c.cl.refusal
	var done bool
	if r.chunked {
		r.raw = append(r.raw, b[:min(len(b), maxRefusalRaw-len(r.raw))]...)
		r.err.Body, done = dechunk(r.raw, r.want)
		done = done || len(r.raw) == maxRefusalRaw
	} else {
		take := min(int64(len(b)), r.want-int64(len(r.err.Body)))
		r.err.Body = append(r.err.Body, b[:take]...)
		done = int64(len(r.err.Body)) == r.want
	}
	if done {
		c.cl.refusal = nil
		c.failClient(r.err)
	}
}

// dechunk decodes the chunked body raw, keeping at most limit bytes. done
// says the body is complete (the last chunk was seen), or limit bytes were
// kept, or raw is not chunked coding (what was decoded before is kept).
func dechunk(raw []byte, limit int64) (body []byte, done bool) {
	for {
		nl := bytes.IndexByte(raw, '\n')
		if nl < 0 {
			return body, false
		}
		line := bytes.TrimSpace(raw[:nl])
		if i := bytes.IndexByte(line, ';'); i >= 0 { // a chunk extension
			line = bytes.TrimSpace(line[:i])
		}
		size, err := strconv.ParseInt(string(line), 16, 64)
		if err != nil || size <= 0 {
			return body, true
		}
		raw = raw[nl+1:]
		n := min(size, int64(len(raw)))
		body = append(body, raw[:min(n, limit-int64(len(body)))]...)
		if int64(len(body)) == limit {
			return body, true
		}
		if n < size {
			return body, false
		}
		raw = bytes.TrimPrefix(bytes.TrimPrefix(raw[size:], []byte("\r")), []byte("\n"))
	}
}
