package wsproto

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
)

// acceptGUID is the fixed string RFC 6455 section 1.3 appends to the
// client's key before hashing.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptKey returns the Sec-WebSocket-Accept value for the client's
// Sec-WebSocket-Key: base64(SHA-1(key + GUID)).
func AcceptKey(key string) string {
	var buf [28]byte
	return string(AppendAcceptKey(buf[:0], []byte(key)))
}

// AppendAcceptKey appends the Sec-WebSocket-Accept value for key to dst and
// returns the extended slice. It does not allocate when dst has room for
// the 28 bytes and key is at most 64 bytes (a valid key is 24).
func AppendAcceptKey(dst []byte, key []byte) []byte {
	var buf [64 + len(acceptGUID)]byte
	var in []byte
	if len(key) <= 64 {
		n := copy(buf[:], key)
		n += copy(buf[n:], acceptGUID)
		in = buf[:n]
	} else {
		in = append(append(make([]byte, 0, len(key)+len(acceptGUID)), key...), acceptGUID...)
	}
	sum := sha1.Sum(in)
	return base64.StdEncoding.AppendEncode(dst, sum[:])
}

// NewClientKey returns a fresh Sec-WebSocket-Key: 16 bytes from crypto/rand,
// base64-encoded (24 characters).
func NewClientKey() string {
	var nonce [16]byte
	_, _ = rand.Read(nonce[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.StdEncoding.EncodeToString(nonce[:])
}

// ValidClientKey reports whether key is a well-formed Sec-WebSocket-Key: the
// base64 encoding, with padding, of exactly 16 bytes. Surrounding
// whitespace is not accepted; trim the header value first.
func ValidClientKey(key string) bool {
	if len(key) != 24 {
		return false
	}
	var out [18]byte
	n, err := base64.StdEncoding.Decode(out[:], []byte(key))
	return err == nil && n == 16
}
