package httpd

import "strconv"

// Response is a parsed response head: what a client reads back from a
// WebSocket handshake request or from a proxy's CONNECT. Its strings share
// one allocation made when the head completes; the Header slice is owned by
// the ResponseParser and reused after [ResponseParser.Reset].
type Response struct {
	// Major and Minor are the HTTP version numbers (Major is always 1).
	Major, Minor int
	// Status is the three-digit status code.
	Status int
	// Reason is the reason phrase, possibly empty.
	Reason string
	// Header holds the header fields in order of arrival, names in lower
	// case.
	Header Header
	// ContentLength is the value of Content-Length, or -1 if absent.
	ContentLength int64
}

// ResponseError is a response head a client must not accept. Msg says what
// is wrong, quoting the offending input (truncated).
type ResponseError struct {
	Msg string
}

func (e *ResponseError) Error() string { return "httpd: malformed response: " + e.Msg }

func newResponseError(msg string) *ResponseError { return &ResponseError{Msg: msg} }

// ResponseParser is an incremental HTTP/1.x response head parser, the client
// side counterpart of [Parser]. The zero value is ready to use with default
// limits.
//
// Lines end in CRLF or, as RFC 9112 section 2.2 lets a recipient accept, a
// bare LF. Each line is validated as soon as it completes, so feeding the
// head whole or one byte at a time gives the same result. Limits.MaxHeaderBytes
// bounds the head and Limits.MaxHeaders the number of fields.
type ResponseParser struct {
	headBuffer

	haveLine bool // status line seen

	reason span

	resp Response
}

// Reset discards any head in progress and prepares p for a new one with
// limits l (zero fields mean defaults). The previous Response is invalid
// after Reset.
func (p *ResponseParser) Reset(l Limits) {
	p.headBuffer.reset(l)
	p.haveLine = false
	p.resp = Response{}
}

// Feed consumes bytes of the head from b. It returns how many bytes it
// consumed and whether the head is complete; once done, b[n:] belongs to
// what follows the head (the body, or WebSocket frames after a 101). An
// error is a [*ResponseError] and is sticky until Reset. After done, Feed
// returns (0, true, nil) until Reset.
func (p *ResponseParser) Feed(b []byte) (n int, done bool, err error) {
	return feed(&p.headBuffer, p, b)
}

// tooLong, line and finish are the headParser hooks.
func (p *ResponseParser) tooLong() *ResponseError {
	return newResponseError("response head longer than " +
		strconv.Itoa(p.lim.MaxHeaderBytes) + " bytes, at " + quote(p.buf[p.lineStart:]))
}

// Response returns the parsed head once Feed has reported done, else nil.
// It stays valid until Reset.
func (p *ResponseParser) Response() *Response {
	if p.state != stateDone {
		return nil
	}
	return &p.resp
}

// line handles the line buf[ls:nl+1], ending with the '\n' at buf[nl].
func (p *ResponseParser) line(ls, nl int) *ResponseError {
	end := nl
	if end > ls && p.buf[end-1] == '\r' {
		end--
	}
	if !p.haveLine {
		p.haveLine = true
		return p.statusLine(ls, end)
	}
	if _, problem := p.fieldLine(ls, end); problem != "" {
		return newResponseError(problem)
	}
	return nil
}

// statusLine parses "HTTP/d.d SP 3DIGIT [SP reason]" in buf[s:e].
func (p *ResponseParser) statusLine(s, e int) *ResponseError {
	line := p.buf[s:e]
	if len(line) < 12 || string(line[:5]) != "HTTP/" || !isDigit(line[5]) || line[6] != '.' ||
		!isDigit(line[7]) || line[8] != ' ' || !isDigit(line[9]) || !isDigit(line[10]) || !isDigit(line[11]) ||
		(len(line) > 12 && line[12] != ' ') {
		return newResponseError("malformed status line " + quote(line))
	}
	p.resp.Major, p.resp.Minor = int(line[5]-'0'), int(line[7]-'0')
	if p.resp.Major != 1 {
		return newResponseError("unsupported HTTP version in status line " + quote(line))
	}
	p.resp.Status = int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
	if p.resp.Status < 100 {
		return newResponseError("invalid status code in " + quote(line))
	}
	p.reason = span{e, e}
	if len(line) > 12 {
		for _, c := range line[13:] {
			if (c < ' ' && c != '\t') || c == 0x7f {
				return newResponseError("invalid character in reason phrase " + quote(line))
			}
		}
		p.reason = span{s + 13, e}
	}
	return nil
}

// finish builds the Response from the complete head.
func (p *ResponseParser) finish() *ResponseError {
	s := string(p.buf)
	sub := func(sp span) string { return s[sp.start:sp.end] }
	r := &p.resp
	r.Reason = sub(p.reason)
	for _, f := range p.fields {
		p.header = append(p.header, Field{Name: sub(f.name), Value: sub(f.value)})
	}
	r.Header = p.header
	r.ContentLength = -1
	for _, f := range r.Header {
		if f.Name != "content-length" {
			continue
		}
		n, ok := parseContentLength(f.Value)
		if !ok || (r.ContentLength >= 0 && r.ContentLength != n) {
			return newResponseError("invalid Content-Length " + quote(f.Value))
		}
		r.ContentLength = n
	}
	return nil
}
