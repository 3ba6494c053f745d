package wsproto

import "strconv"

// ProtocolError is a violation of RFC 6455 by the peer (or by input given to
// a parsing function). Code is the close code to answer with: 1002
// (CloseProtocolError), 1007 (CloseInvalidPayload) or 1009
// (CloseMessageTooBig). Reason says what was wrong; it fits in a close frame
// (at most 123 bytes, ASCII).
type ProtocolError struct {
	Code   CloseCode
	Reason string
}

// Error implements error.
func (e *ProtocolError) Error() string {
	return "wsproto: " + e.Reason + " (close " + strconv.Itoa(int(e.Code)) + " " + e.Code.String() + ")"
}

// Is makes errors.Is(err, &ProtocolError{Code: c}) match any ProtocolError
// with close code c, whatever its reason.
func (e *ProtocolError) Is(target error) bool {
	t, ok := target.(*ProtocolError)
	return ok && t.Code == e.Code && (t.Reason == "" || t.Reason == e.Reason)
}

func protocolErr(reason string) *ProtocolError {
	return &ProtocolError{Code: CloseProtocolError, Reason: reason}
}

func invalidPayloadErr(reason string) *ProtocolError {
	return &ProtocolError{Code: CloseInvalidPayload, Reason: reason}
}

func tooBigErr(reason string) *ProtocolError {
	return &ProtocolError{Code: CloseMessageTooBig, Reason: reason}
}
