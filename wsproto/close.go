package wsproto

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

// maxCloseReason is the room left for a reason in a close frame after the
// two-byte code.
const maxCloseReason = MaxControlPayload - 2

// ParseClosePayload decodes the payload of a close frame (RFC 6455 section
// 5.5.1). An empty payload yields CloseNoStatus and no reason. Otherwise the
// first two bytes are the code, which must be ValidOnWire, and the rest is
// the reason, which must be valid UTF-8. Errors are *ProtocolError: 1002 for
// a one-byte payload or a code not valid on the wire, 1007 for a reason that
// is not UTF-8. reason is a subslice of b.
func ParseClosePayload(b []byte) (code CloseCode, reason []byte, err error) {
	switch len(b) {
	case 0:
		return CloseNoStatus, nil, nil
	case 1:
		return 0, nil, protocolErr("close frame with a one-byte payload")
	}
	code = CloseCode(binary.BigEndian.Uint16(b))
	if !code.ValidOnWire() {
		return 0, nil, protocolErr("close code " + strconv.Itoa(int(code)) + " is not valid on the wire")
	}
	reason = b[2:]
	if !validUTF8(reason) {
		return 0, nil, invalidPayloadErr("close reason is not valid UTF-8")
	}
	return code, reason, nil
}

// AppendClosePayload appends a close frame payload to dst: code in network
// byte order, then reason cut to the 123 bytes that fit, at a UTF-8 character
// boundary. For CloseNoStatus it appends nothing (a close frame without a
// payload says exactly that). The caller supplies a code that is ValidOnWire
// and a reason that is valid UTF-8; neither is checked.
func AppendClosePayload(dst []byte, code CloseCode, reason string) []byte {
	if code == CloseNoStatus {
		return dst
	}
	if len(reason) > maxCloseReason {
		i := maxCloseReason
		for i > 0 && !utf8.RuneStart(reason[i]) {
			i--
		}
		reason = reason[:i]
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	return append(dst, reason...)
}
