package httpd

import (
	"bytes"
	"strconv"
)

type parseState uint8

const (
	stateHead   parseState = iota // accumulating the head
	stateDone                     // head complete, result valid
	stateFailed                   // err is set and sticky
)

// headBuffer is the head accumulation shared by [Parser] and
// [ResponseParser]: it buffers at most lim.MaxHeaderBytes of input, hands
// each complete line to the parser, and keeps the sticky outcome. The
// parsers embed it; what a line means is theirs (see headParser).
type headBuffer struct {
	lim   Limits
	state parseState
	err   error // the sticky error once state is stateFailed

	buf       []byte // the head so far (at most lim.MaxHeaderBytes before completion)
	scanned   int    // bytes of buf already searched for '\n'
	lineStart int    // start of the current line in buf

	fields []fieldSpan // header fields found so far, as spans of buf
	header Header      // backing store for the result's Header
}

// headParser is what a parser embedding a headBuffer supplies to feed,
// with its own error type E.
type headParser[E parseError] interface {
	// line handles the line buf[ls:nl+1], nl being the index of its '\n';
	// it sets state to stateDone when that line ends the head.
	line(ls, nl int) E
	// finish builds the result once buf holds exactly the whole head.
	finish() E
	// tooLong is the error for a head that reached lim.MaxHeaderBytes
	// without ending.
	tooLong() E
}

// parseError is a parser's error type.
type parseError interface {
	*Error | *ResponseError
	error
}

// reset empties h for a new head with limits l (zero fields mean defaults),
// keeping buf's storage.
func (h *headBuffer) reset(l Limits) {
	h.lim = l.withDefaults()
	h.state = stateHead
	h.err = nil
	h.buf = h.buf[:0]
	h.scanned, h.lineStart = 0, 0
	h.fields = h.fields[:0]
	clear(h.header)
	h.header = h.header[:0]
}

// feed implements the parsers' Feed on h, the headBuffer p embeds: it
// consumes bytes of the head from b and returns how many it consumed and
// whether the head is complete, calling p's hooks for each line, at
// completion, and when the head is too long.
// Errors are sticky until reset; after done it returns (0, true, nil).
func feed[E parseError](h *headBuffer, p headParser[E], b []byte) (n int, done bool, err error) {
	switch h.state {
	case stateDone:
		return 0, true, nil
	case stateFailed:
		return 0, false, h.err
	}
	if h.lim.MaxHeaderBytes == 0 { // zero parser
		h.lim = h.lim.withDefaults()
	}
	start := len(h.buf)
	take := min(len(b), h.lim.MaxHeaderBytes-start)
	h.buf = append(h.buf, b[:take]...)
	for h.scanned < len(h.buf) {
		i := bytes.IndexByte(h.buf[h.scanned:], '\n')
		if i < 0 {
			h.scanned = len(h.buf)
			break
		}
		nl := h.scanned + i
		h.scanned = nl + 1
		ls := h.lineStart
		h.lineStart = nl + 1
		if e := p.line(ls, nl); e != nil {
			return nl + 1 - start, false, h.fail(e)
		}
		if h.state == stateDone {
			h.buf = h.buf[:nl+1]
			if e := p.finish(); e != nil {
				return nl + 1 - start, false, h.fail(e)
			}
			return nl + 1 - start, true, nil
		}
	}
	if len(h.buf) >= h.lim.MaxHeaderBytes {
		return take, false, h.fail(p.tooLong())
	}
	return take, false, nil
}

// fieldLine handles buf[ls:end], a line of the header section (its line
// ending cut off): an empty line ends the head, anything else must be a
// field within the limits. A problem is returned with the HTTP status a
// server answers it with (400, or 431 past MaxHeaders); "" when the line
// was taken.
func (h *headBuffer) fieldLine(ls, end int) (status int, problem string) {
	line := h.buf[ls:end]
	switch {
	case len(line) == 0:
		h.state = stateDone
		return 0, ""
	case line[0] == ' ' || line[0] == '\t':
		return 400, "obsolete line folding: " + quote(line)
	case len(h.fields) >= h.lim.MaxHeaders:
		return 431, "more than " + strconv.Itoa(h.lim.MaxHeaders) + " header fields, at " + quote(line)
	}
	colon := bytes.IndexByte(line, ':')
	switch {
	case colon < 0:
		return 400, "header line without colon " + quote(line)
	case colon == 0:
		return 400, "empty header name in " + quote(line)
	case line[colon-1] == ' ' || line[colon-1] == '\t':
		return 400, "whitespace before colon in header " + quote(line)
	case !isToken(line[:colon]):
		return 400, "invalid character in header name " + quote(line[:colon])
	}
	if name, value, ok := h.addField(ls, colon, end); !ok {
		return 400, "invalid character in value of header " + quote(name) + ": " + quote(value)
	}
	return 0, ""
}

// addField appends the header field in buf[s:e] whose name, already checked
// by the caller, ends at the colon at buf[s+colon]: it trims the value's
// surrounding blanks and lower-cases the name in place. ok is false, and
// nothing is appended, when the value holds a control character; name and
// value are then what the caller's error names.
func (h *headBuffer) addField(s, colon, e int) (name, value []byte, ok bool) {
	line := h.buf[s:e]
	name = line[:colon]
	vs, ve := colon+1, len(line)
	for vs < ve && (line[vs] == ' ' || line[vs] == '\t') {
		vs++
	}
	for ve > vs && (line[ve-1] == ' ' || line[ve-1] == '\t') {
		ve--
	}
	for _, c := range line[vs:ve] {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return name, line[vs:ve], false
		}
	}
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			name[i] = c + ('a' - 'A')
		}
	}
	h.fields = append(h.fields, fieldSpan{span{s, s + colon}, span{s + vs, s + ve}})
	return name, line[vs:ve], true
}

func (h *headBuffer) fail(e error) error {
	h.state = stateFailed
	h.err = e
	return e
}
