package httpd

import (
	"html"
	"strconv"
)

// StatusText returns the reason phrase of an HTTP status code, or "" if the
// code is unknown.
func StatusText(code int) string {
	switch code {
	case 100:
		return "Continue"
	case 101:
		return "Switching Protocols"
	case 200:
		return "OK"
	case 201:
		return "Created"
	case 202:
		return "Accepted"
	case 204:
		return "No Content"
	case 206:
		return "Partial Content"
	case 301:
		return "Moved Permanently"
	case 302:
		return "Found"
	case 303:
		return "See Other"
	case 304:
		return "Not Modified"
	case 307:
		return "Temporary Redirect"
	case 308:
		return "Permanent Redirect"
	case 400:
		return "Bad Request"
	case 401:
		return "Unauthorized"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 405:
		return "Method Not Allowed"
	case 406:
		return "Not Acceptable"
	case 408:
		return "Request Timeout"
	case 409:
		return "Conflict"
	case 410:
		return "Gone"
	case 411:
		return "Length Required"
	case 413:
		return "Content Too Large"
	case 414:
		return "URI Too Long"
	case 415:
		return "Unsupported Media Type"
	case 416:
		return "Range Not Satisfiable"
	case 417:
		return "Expectation Failed"
	case 426:
		return "Upgrade Required"
	case 429:
		return "Too Many Requests"
	case 431:
		return "Request Header Fields Too Large"
	case 500:
		return "Internal Server Error"
	case 501:
		return "Not Implemented"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service Unavailable"
	case 504:
		return "Gateway Timeout"
	case 505:
		return "HTTP Version Not Supported"
	}
	return ""
}

// AppendResponseHead appends an HTTP/1.1 response head to dst and returns
// the extended slice:
//
//	HTTP/1.1 <status> <reason>
//	Content-Type: <contentType>       (omitted when "")
//	Content-Length: <contentLength>   (omitted when < 0)
//	Connection: keep-alive | close    (omitted for 1xx and when extra has Connection)
//	<extra fields in order>
//	<empty line>
//
// A 101 upgrade response passes contentLength -1 and its Connection and
// Upgrade fields in extra. Control characters in field names and values
// (which would split the response) are replaced by spaces. A status outside
// 100..999 is written as 500.
func AppendResponseHead(dst []byte, status int, contentType string, contentLength int64, keepAlive bool, extra ...Field) []byte {
	if status < 100 || status > 999 {
		status = 500
	}
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	dst = append(dst, StatusText(status)...)
	dst = append(dst, "\r\n"...)
	if contentType != "" {
		dst = appendField(dst, "Content-Type", contentType)
	}
	if contentLength >= 0 {
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, contentLength, 10)
		dst = append(dst, "\r\n"...)
	}
	if status >= 200 && !hasField(extra, "connection") {
		if keepAlive {
			dst = append(dst, "Connection: keep-alive\r\n"...)
		} else {
			dst = append(dst, "Connection: close\r\n"...)
		}
	}
	for _, f := range extra {
		dst = appendField(dst, f.Name, f.Value)
	}
	return append(dst, "\r\n"...)
}

func hasField(fs []Field, name string) bool {
	for _, f := range fs {
		if equalFoldASCII(f.Name, name) {
			return true
		}
	}
	return false
}

func appendField(dst []byte, name, value string) []byte {
	dst = appendSafe(dst, name)
	dst = append(dst, ": "...)
	dst = appendSafe(dst, value)
	return append(dst, "\r\n"...)
}

// appendSafe appends s with control characters other than HT replaced by SP.
func appendSafe(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < ' ' && c != '\t') || c == 0x7f {
			c = ' '
		}
		dst = append(dst, c)
	}
	return dst
}

// AppendErrorResponse appends a complete response for an error status: the
// head with "Connection: close" and a small text/html body naming the status
// and msg (HTML-escaped). The caller writes it and closes the connection.
func AppendErrorResponse(dst []byte, status int, msg string) []byte {
	if status < 100 || status > 999 {
		status = 500
	}
	title := strconv.Itoa(status) + " " + StatusText(status)
	body := "<!DOCTYPE html>\n<html><head><title>" + title + "</title></head>\n<body><h1>" + title + "</h1>\n"
	if msg != "" {
		body += "<p>" + html.EscapeString(msg) + "</p>\n"
	}
	body += "</body></html>\n"
	dst = AppendResponseHead(dst, status, "text/html; charset=utf-8", int64(len(body)), false)
	return append(dst, body...)
}
