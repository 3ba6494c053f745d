package pmdeflate

import (
	"strconv"
	"strings"
)

// Extension is one element of a Sec-WebSocket-Extensions header: an
// extension name with its parameters, in the order written.
type Extension struct {
	Name   string
	Params []Param
}

// Param is one extension parameter. HasValue tells "name" from "name=".
// Value is unquoted when it was written as a quoted string.
type Param struct {
	Name     string
	Value    string
	HasValue bool
}

// Error is a Sec-WebSocket-Extensions value that does not parse (RFC 6455
// section 9.1), or a permessage-deflate response that must fail the
// connection (RFC 7692 section 7).
type Error struct {
	Input  string // the header value, shortened when long
	Offset int    // byte offset of the problem in Input, -1 when none
	Reason string
}

// Error implements error.
func (e *Error) Error() string {
	if e.Offset >= 0 {
		return "pmdeflate: " + e.Reason + " at offset " + strconv.Itoa(e.Offset) + " of " + strconv.Quote(e.Input)
	}
	return "pmdeflate: " + e.Reason + " in " + strconv.Quote(e.Input)
}

const maxQuoted = 200

func newError(input string, off int, reason string) *Error {
	if len(input) > maxQuoted {
		input = input[:maxQuoted] + "..."
	}
	return &Error{Input: input, Offset: off, Reason: reason}
}

// ParseExtensions parses the values of every Sec-WebSocket-Extensions header
// field of a message (several fields are one comma-separated list) into the
// extensions they name, in order. Empty list elements are skipped, optional
// white space is allowed around separators, and a quoted value must be a
// token once unquoted (RFC 6455 section 9.1). Anything else is an [*Error].
func ParseExtensions(values []string) ([]Extension, error) {
	var exts []Extension
	for _, v := range values {
		var err error
		if exts, err = appendExtensions(exts, v); err != nil {
			return nil, err
		}
	}
	return exts, nil
}

// appendExtensions parses one header value.
func appendExtensions(exts []Extension, s string) ([]Extension, error) {
	i := 0
	for {
		i = skipOWS(s, i)
		if i == len(s) {
			return exts, nil
		}
		if s[i] == ',' { // empty list element
			i++
			continue
		}
		var ext Extension
		var err *Error
		if ext.Name, i, err = token(s, i, "extension name"); err != nil {
			return nil, err
		}
		i = skipOWS(s, i)
		for i < len(s) && s[i] == ';' {
			var p Param
			i = skipOWS(s, i+1)
			if p.Name, i, err = token(s, i, "parameter name"); err != nil {
				return nil, err
			}
			i = skipOWS(s, i)
			if i < len(s) && s[i] == '=' {
				p.HasValue = true
				i = skipOWS(s, i+1)
				if i < len(s) && s[i] == '"' {
					if p.Value, i, err = quoted(s, i); err != nil {
						return nil, err
					}
				} else if p.Value, i, err = token(s, i, "parameter value"); err != nil {
					return nil, err
				}
				i = skipOWS(s, i)
			}
			ext.Params = append(ext.Params, p)
		}
		exts = append(exts, ext)
		if i == len(s) {
			return exts, nil
		}
		if s[i] != ',' {
			return nil, newError(s, i, "unexpected "+strconv.QuoteRune(rune(s[i]))+" after an extension")
		}
		i++
	}
}

func skipOWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// token reads a token (RFC 7230 tchar+) starting at i.
func token(s string, i int, what string) (string, int, *Error) {
	j := i
	for j < len(s) && isTokenChar(s[j]) {
		j++
	}
	if j == i {
		if i == len(s) {
			return "", i, newError(s, i, "missing "+what)
		}
		return "", i, newError(s, i, "bad character "+strconv.QuoteRune(rune(s[i]))+" where a "+what+" should be")
	}
	return s[i:j], j, nil
}

// quoted reads a quoted string starting at the '"' at i and returns its
// unescaped content, which must be a token.
func quoted(s string, i int) (string, int, *Error) {
	start := i
	i++
	var b strings.Builder
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			v := b.String()
			if v == "" || strings.IndexFunc(v, func(r rune) bool { return r >= 0x80 || !isTokenChar(byte(r)) }) >= 0 {
				return "", i, newError(s, start, "quoted value is not a token once unquoted")
			}
			return v, i + 1, nil
		case c == '\\':
			if i+1 == len(s) {
				return "", i, newError(s, i, "unterminated quoted string")
			}
			b.WriteByte(s[i+1])
			i += 2
		case c < 0x20 && c != '\t' || c == 0x7f:
			return "", i, newError(s, i, "control character in a quoted string")
		default:
			b.WriteByte(c)
			i++
		}
	}
	return "", i, newError(s, start, "unterminated quoted string")
}

// tokenChars marks the tchar bytes of RFC 7230.
var tokenChars = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

func isTokenChar(c byte) bool { return tokenChars[c] }

// String formats e as it would be written in a header.
func (e Extension) String() string {
	var b strings.Builder
	b.WriteString(e.Name)
	for _, p := range e.Params {
		b.WriteString("; ")
		b.WriteString(p.Name)
		if p.HasValue {
			b.WriteByte('=')
			b.WriteString(p.Value)
		}
	}
	return b.String()
}
