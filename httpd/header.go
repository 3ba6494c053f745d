package httpd

import "strings"

// Field is one header field line. Name is the canonical lower-case form of
// the field name; Value has leading and trailing whitespace removed.
type Field struct {
	Name, Value string
}

// Header is the list of fields of a request head, in the order received.
// Repeated fields are kept as separate entries.
type Header []Field

// Get returns the value of the first field named name (compared without
// regard to case), or "" if there is none.
func (h Header) Get(name string) string {
	for i := range h {
		if strings.EqualFold(h[i].Name, name) {
			return h[i].Value
		}
	}
	return ""
}

// Values returns the values of all fields named name (compared without regard
// to case), in order, or nil if there is none.
func (h Header) Values(name string) []string {
	var vs []string
	for i := range h {
		if strings.EqualFold(h[i].Name, name) {
			vs = append(vs, h[i].Value)
		}
	}
	return vs
}

// HasToken reports whether any field named name holds token as one of its
// comma-separated elements, compared without regard to case, as used by
// Connection, Upgrade and Transfer-Encoding. Parameters after ';' are part of
// the element, so HasToken("te", "chunked") does not match "chunked;x=1".
// An empty token never matches.
func (h Header) HasToken(name, token string) bool {
	if token == "" {
		return false
	}
	for i := range h {
		if !strings.EqualFold(h[i].Name, name) {
			continue
		}
		v := h[i].Value
		for v != "" {
			var elem string
			elem, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(trimOWS(elem), token) {
				return true
			}
		}
	}
	return false
}

// trimOWS removes leading and trailing spaces and horizontal tabs.
func trimOWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// Request is a parsed request head. From [Parser.Request] its strings share
// one allocation and stay valid for good; from [Parser.BorrowRequest] they
// alias the parser's buffer until Request is called. The Request and its
// Header slice are owned by the Parser and reused after [Parser.Reset].
type Request struct {
	// Method is the request method, case preserved ("GET").
	Method string
	// Target is the request-target exactly as received.
	Target string
	// Path is the percent-decoded path of Target ("/" for an absolute-form
	// target without a path, "*" for "OPTIONS *"). It never contains NUL.
	Path string
	// RawQuery is the part of Target after '?', still encoded, without '?'.
	RawQuery string
	// Major and Minor are the HTTP version numbers (Major is always 1).
	Major, Minor int
	// Header holds the header fields in order of arrival.
	Header Header
	// Host is the authority of an absolute-form target if there is one,
	// otherwise the value of the Host header ("" if absent on HTTP/1.0).
	Host string
	// KeepAlive reports whether the connection may carry another request:
	// HTTP/1.1 unless "Connection: close", HTTP/1.0 only with
	// "Connection: keep-alive" (and no "close").
	KeepAlive bool
	// ContentLength is the value of Content-Length, or -1 if the header is
	// absent. A request with neither Content-Length nor Chunked has no body.
	ContentLength int64
	// Chunked reports "Transfer-Encoding: chunked" (the only coding accepted).
	Chunked bool
}
