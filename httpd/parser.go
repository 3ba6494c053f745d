package httpd

import (
	"bytes"
	"strconv"
	"unsafe"
)

// Default limits used when a [Limits] field is zero or negative.
const (
	DefaultMaxHeaderBytes = 8192
	DefaultMaxHeaders     = 64
)

// Limits bounds the memory and work one request head may cost. The zero
// value means the defaults.
type Limits struct {
	// MaxHeaderBytes bounds the head: request line, header lines and all
	// line terminators, including leading empty lines and the final empty
	// line. Exceeding it is 414 while the request line is still incomplete,
	// 431 afterwards. Default DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	// MaxHeaders bounds the number of header field lines (431 beyond).
	// Default DefaultMaxHeaders.
	MaxHeaders int
}

func (l Limits) withDefaults() Limits {
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if l.MaxHeaders <= 0 {
		l.MaxHeaders = DefaultMaxHeaders
	}
	return l
}

// Error is a request the server must refuse. Status is the HTTP status to
// answer with (400, 414, 431, 501 or 505) and Msg says why, quoting the
// offending input (truncated).
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string {
	return "httpd: " + strconv.Itoa(e.Status) + " " + StatusText(e.Status) + ": " + e.Msg
}

// maxQuote is how many bytes of offending input an error message quotes.
const maxQuote = 64

// quote returns s as a Go-quoted string, truncated to maxQuote bytes.
func quote[T string | []byte](s T) string {
	if len(s) > maxQuote {
		return strconv.Quote(string(s[:maxQuote])) + "..."
	}
	return strconv.Quote(string(s))
}

func newError(status int, msg string) *Error { return &Error{Status: status, Msg: msg} }

// span is a byte range [start, end) of Parser.buf.
type span struct{ start, end int }

type fieldSpan struct{ name, value span }

// Parser is an incremental HTTP/1.1 request head parser. The zero value is
// ready to use with default limits; [Parser.Reset] prepares it for the next
// request on a keep-alive connection and keeps its buffers.
//
// Lines must end in CRLF; empty lines before the request line are skipped
// (RFC 9112 section 2.2). Header lines are validated as they complete, so a
// bad request is refused as soon as its bad line arrives.
type Parser struct {
	headBuffer

	reqStart int  // start of the request line (after leading empty lines)
	haveReq  bool // request line seen

	method, target, path, query span
	absHost                     span // authority of an absolute-form target
	hasAbsHost                  bool
	pathEscaped                 bool // path contains '%' and must be decoded
	major, minor                int

	decoded span // the decoded path, in buf's capacity past the head
	owned   bool // req's strings are a copy of their own (Request)

	req Request
}

// Reset discards any request in progress and prepares p for a new head with
// limits l (zero fields mean defaults). Buffers are kept for reuse, so the
// previous Request and its Header are invalid after Reset.
func (p *Parser) Reset(l Limits) {
	p.headBuffer.reset(l)
	p.reqStart = 0
	p.haveReq = false
	p.hasAbsHost, p.pathEscaped = false, false
	p.owned = false
	p.req = Request{}
}

// Feed consumes bytes of the head from b. It returns how many bytes of b it
// consumed and whether the head is complete; once done, the remaining
// b[n:] belongs to the body or to the protocol the connection upgrades to.
// An error is an [*Error] and is sticky: later calls return it again until
// Reset. After done, Feed returns (0, true, nil) until Reset.
func (p *Parser) Feed(b []byte) (n int, done bool, err error) {
	return feed(&p.headBuffer, p, b)
}

// tooLong, line and finish are the headParser hooks.
func (p *Parser) tooLong() *Error {
	if !p.haveReq {
		return newError(414, "request line longer than "+
			strconv.Itoa(p.lim.MaxHeaderBytes)+" bytes: "+quote(p.buf[p.reqStart:]))
	}
	return newError(431, "request head longer than "+
		strconv.Itoa(p.lim.MaxHeaderBytes)+" bytes, last line "+quote(p.buf[p.lineStart:]))
}

// Request returns the parsed request once Feed has reported done, else nil.
// Its strings are its own: the first call copies the head into one string
// and points every string of the Request into it, so they stay valid for
// good, while the Request itself and its Header slice stay valid until
// Reset. A Request obtained from BorrowRequest before is the same one and
// now holds the owned strings.
func (p *Parser) Request() *Request {
	if p.state != stateDone {
		return nil
	}
	if !p.owned {
		p.owned = true
		p.setStrings(string(p.buf[p.reqStart:p.decoded.end]))
	}
	return &p.req
}

// BorrowRequest is Request without the copy: until Request is called, the
// strings of the returned Request alias the parser's buffer, which the next
// head overwrites after Reset. The caller must not keep them, nor let them
// reach code that might, past Reset; what it hands on must come from
// Request. This lets a server validate a WebSocket handshake without
// leaving the head behind as garbage.
func (p *Parser) BorrowRequest() *Request {
	if p.state != stateDone {
		return nil
	}
	return &p.req
}

// line handles the line buf[ls:nl+1], ending with the '\n' at buf[nl].
func (p *Parser) line(ls, nl int) *Error {
	if nl == ls || p.buf[nl-1] != '\r' {
		return newError(400, "line not terminated by CRLF: "+quote(p.buf[ls:nl+1]))
	}
	end := nl - 1
	if !p.haveReq {
		if end == ls { // empty line before the request line: skip it
			p.reqStart = nl + 1
			return nil
		}
		p.haveReq = true
		return p.requestLine(ls, end)
	}
	if status, problem := p.fieldLine(ls, end); problem != "" {
		return newError(status, problem)
	}
	return nil
}

// requestLine parses "method SP request-target SP HTTP-version" in buf[s:e].
func (p *Parser) requestLine(s, e int) *Error {
	line := p.buf[s:e]
	sp1 := bytes.IndexByte(line, ' ')
	if sp1 < 0 {
		return newError(400, "malformed request line "+quote(line))
	}
	sp2 := bytes.IndexByte(line[sp1+1:], ' ')
	if sp2 < 0 {
		return newError(400, "malformed request line "+quote(line))
	}
	sp2 += sp1 + 1
	method, target, version := line[:sp1], line[sp1+1:sp2], line[sp2+1:]
	if len(method) == 0 || !isToken(method) {
		return newError(400, "invalid method "+quote(method)+" in request line "+quote(line))
	}
	if len(target) == 0 || len(version) == 0 || bytes.IndexByte(version, ' ') >= 0 {
		return newError(400, "malformed request line "+quote(line))
	}
	if len(version) != 8 || string(version[:5]) != "HTTP/" || !isDigit(version[5]) ||
		version[6] != '.' || !isDigit(version[7]) {
		return newError(400, "malformed HTTP version "+quote(version))
	}
	p.major, p.minor = int(version[5]-'0'), int(version[7]-'0')
	if p.major != 1 {
		return newError(505, "unsupported HTTP version "+quote(version))
	}
	if string(method) == "CONNECT" {
		return newError(501, "method CONNECT not supported")
	}
	p.method = span{s, s + sp1}
	p.target = span{s + sp1 + 1, s + sp2}
	return p.parseTarget(method, target, s+sp1+1)
}

// parseTarget splits the request-target at buf offset off into path and
// query and validates it.
func (p *Parser) parseTarget(method, t []byte, off int) *Error {
	for _, c := range t {
		if c <= ' ' || c >= 0x7f || c == '#' {
			return newError(400, "invalid character in request target "+quote(t))
		}
	}
	pathStart := 0
	switch {
	case t[0] == '/':
		// origin-form
	case len(t) == 1 && t[0] == '*':
		if string(method) != "OPTIONS" {
			return newError(400, "asterisk-form target with method "+quote(method))
		}
	default:
		// absolute-form: scheme "://" authority [path-abempty] ["?" query]
		i := 0
		for i < len(t) && (isAlpha(t[i]) || (i > 0 && (isDigit(t[i]) || t[i] == '+' || t[i] == '-' || t[i] == '.'))) {
			i++
		}
		if i == 0 || len(t)-i < 3 || string(t[i:i+3]) != "://" {
			return newError(400, "invalid request target "+quote(t))
		}
		a := i + 3
		e := a
		for e < len(t) && t[e] != '/' && t[e] != '?' {
			e++
		}
		auth := t[a:e]
		if len(auth) == 0 || bytes.IndexByte(auth, '@') >= 0 || !validHost(auth) {
			return newError(400, "invalid authority in request target "+quote(t))
		}
		p.absHost = span{off + a, off + e}
		p.hasAbsHost = true
		pathStart = e
	}
	q := bytes.IndexByte(t[pathStart:], '?')
	pathEnd := len(t)
	if q >= 0 {
		pathEnd = pathStart + q
		p.query = span{off + pathEnd + 1, off + len(t)}
	} else {
		p.query = span{off + len(t), off + len(t)}
	}
	p.path = span{off + pathStart, off + pathEnd}
	path := t[pathStart:pathEnd]
	p.pathEscaped = bytes.IndexByte(path, '%') >= 0
	if p.pathEscaped {
		for i := 0; i < len(path); i++ {
			if path[i] != '%' {
				continue
			}
			if i+2 >= len(path) || !isHex(path[i+1]) || !isHex(path[i+2]) {
				return newError(400, "malformed percent-escape in path "+quote(path))
			}
			if path[i+1] == '0' && path[i+2] == '0' {
				return newError(400, "encoded NUL in path "+quote(path))
			}
			i += 2
		}
	}
	return nil
}

// finish builds the Request from the complete head in buf, its strings
// borrowed from buf (BorrowRequest), and checks the rules that need all
// header fields.
func (p *Parser) finish() *Error {
	headLen := len(p.buf)
	p.decoded = span{headLen, headLen}
	if p.pathEscaped {
		p.buf = appendUnescaped(p.buf, p.buf[p.path.start:p.path.end])
		p.decoded.end = len(p.buf)
		p.buf = p.buf[:headLen] // the decoded path stays in the capacity, untouched until Reset
	}
	b := p.buf[p.reqStart:p.decoded.end]
	p.setStrings(unsafe.String(unsafe.SliceData(b), len(b)))

	r := &p.req
	r.Major, r.Minor = p.major, p.minor
	r.ContentLength = -1

	var (
		hosts, clFields, teFields int
		teChunked                 bool
	)
	for _, f := range r.Header {
		switch f.Name {
		case "host":
			hosts++
			if hosts > 1 {
				return newError(400, "multiple Host headers")
			}
			if !validHost(f.Value) {
				return newError(400, "invalid Host header "+quote(f.Value))
			}
		case "content-length":
			clFields++
			n, ok := parseContentLength(f.Value)
			if !ok {
				return newError(400, "invalid Content-Length "+quote(f.Value))
			}
			if r.ContentLength >= 0 && r.ContentLength != n {
				return newError(400, "conflicting Content-Length values "+
					strconv.FormatInt(r.ContentLength, 10)+" and "+quote(f.Value))
			}
			r.ContentLength = n
		case "transfer-encoding":
			teFields++
			v := f.Value
			for v != "" {
				var elem string
				if c := indexByteString(v, ','); c >= 0 {
					elem, v = v[:c], v[c+1:]
				} else {
					elem, v = v, ""
				}
				elem = trimOWS(elem)
				if elem == "" {
					continue
				}
				if teChunked {
					return newError(400, "transfer coding after chunked in "+quote(f.Value))
				}
				if !equalFoldASCII(elem, "chunked") {
					return newError(501, "unsupported transfer coding "+quote(elem))
				}
				teChunked = true
			}
		}
	}
	if hosts == 0 && p.minor >= 1 {
		return newError(400, "missing Host header in HTTP/1."+strconv.Itoa(p.minor)+" request")
	}
	if teFields > 0 {
		if clFields > 0 {
			return newError(400, "both Content-Length and Transfer-Encoding present")
		}
		if p.minor == 0 {
			return newError(400, "Transfer-Encoding in HTTP/1.0 request")
		}
		if !teChunked {
			return newError(400, "empty Transfer-Encoding")
		}
		r.Chunked = true
	}
	switch {
	case r.Header.HasToken("connection", "close"):
		r.KeepAlive = false
	case p.minor == 0:
		r.KeepAlive = r.Header.HasToken("connection", "keep-alive")
	default:
		r.KeepAlive = true
	}
	return nil
}

// setStrings points the strings of the Request into s, which holds
// buf[reqStart:decoded.end]: the head, then the decoded path if any.
func (p *Parser) setStrings(s string) {
	sub := func(sp span) string { return s[sp.start-p.reqStart : sp.end-p.reqStart] }
	r := &p.req
	r.Method = sub(p.method)
	r.Target = sub(p.target)
	r.RawQuery = sub(p.query)
	switch {
	case p.pathEscaped:
		r.Path = sub(p.decoded)
	case p.path.start == p.path.end:
		if r.Target == "*" {
			r.Path = "*"
		} else {
			r.Path = "/"
		}
	default:
		r.Path = sub(p.path)
	}
	p.header = p.header[:0]
	r.Host = ""
	for _, f := range p.fields {
		name, value := sub(f.name), sub(f.value)
		p.header = append(p.header, Field{Name: name, Value: value})
		if name == "host" && r.Host == "" {
			r.Host = value // finish refuses a second Host field
		}
	}
	r.Header = p.header
	if p.hasAbsHost {
		r.Host = sub(p.absHost)
	}
}

// parseContentLength parses a Content-Length value: a non-negative decimal,
// or a comma-separated list of identical ones (RFC 9110 section 8.6).
func parseContentLength(v string) (int64, bool) {
	n := int64(-1)
	for {
		var elem string
		c := indexByteString(v, ',')
		if c >= 0 {
			elem, v = trimOWS(v[:c]), v[c+1:]
		} else {
			elem = trimOWS(v)
		}
		if elem == "" || len(elem) > 18 {
			return 0, false
		}
		var x int64
		for i := 0; i < len(elem); i++ {
			if !isDigit(elem[i]) {
				return 0, false
			}
			x = x*10 + int64(elem[i]-'0')
		}
		if n >= 0 && x != n {
			return 0, false
		}
		n = x
		if c < 0 {
			return n, true
		}
	}
}

// appendUnescaped appends the percent-decoding of s (already validated).
func appendUnescaped(dst, s []byte) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			dst = append(dst, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		dst = append(dst, s[i])
	}
	return dst
}

func indexByteString(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// validHost accepts the characters of RFC 3986 host [":" port]: reg-name,
// IP literals in brackets, pct-encoded bytes.
func validHost[T string | []byte](h T) bool {
	for i := 0; i < len(h); i++ {
		switch c := h[i]; {
		case isAlpha(c), isDigit(c):
		case c == '-', c == '.', c == '_', c == '~', c == '!', c == '$', c == '&', c == '\'',
			c == '(', c == ')', c == '*', c == '+', c == ',', c == ';', c == '=', c == ':',
			c == '[', c == ']', c == '%':
		default:
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlpha(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }
func isHex(c byte) bool   { return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F') }

func unhex(c byte) byte {
	switch {
	case isDigit(c):
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// isTokenChar reports whether c is a tchar of RFC 9110 section 5.6.2.
func isTokenChar(c byte) bool {
	if isAlpha(c) || isDigit(c) {
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

func isToken(b []byte) bool {
	for _, c := range b {
		if !isTokenChar(c) {
			return false
		}
	}
	return true
}
