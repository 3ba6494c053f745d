package lws

import "github.com/lws-go/lws/wsproto"

// CloseCode is the status code of a close frame (RFC 6455 section 7.4), as
// Conn.Close and ClientConn.Close send it and Protocol.OnClosed and
// CloseError report it. It is wsproto.CloseCode under a second name, so a
// program needs only this package; the values are the same.
type CloseCode = wsproto.CloseCode

// The registered close codes (RFC 6455 section 7.4.1 and the IANA
// registry). CloseNoStatus, CloseAbnormal and CloseTLSHandshake are only
// reported, never sent; codes 3000-4999 are free for applications
// (4000-4999 for private use).
const (
	CloseNormal             = wsproto.CloseNormal             // 1000: the purpose is fulfilled
	CloseGoingAway          = wsproto.CloseGoingAway          // 1001: server shutdown, page left
	CloseProtocolError      = wsproto.CloseProtocolError      // 1002
	CloseUnsupportedData    = wsproto.CloseUnsupportedData    // 1003: a message type the endpoint cannot take
	CloseNoStatus           = wsproto.CloseNoStatus           // 1005: the close frame had no code
	CloseAbnormal           = wsproto.CloseAbnormal           // 1006: no close frame at all
	CloseInvalidPayload     = wsproto.CloseInvalidPayload     // 1007: text not UTF-8, or not inflatable
	ClosePolicyViolation    = wsproto.ClosePolicyViolation    // 1008
	CloseMessageTooBig      = wsproto.CloseMessageTooBig      // 1009
	CloseMandatoryExtension = wsproto.CloseMandatoryExtension // 1010
	CloseInternalError      = wsproto.CloseInternalError      // 1011
	CloseServiceRestart     = wsproto.CloseServiceRestart     // 1012
	CloseTryAgainLater      = wsproto.CloseTryAgainLater      // 1013
	CloseBadGateway         = wsproto.CloseBadGateway         // 1014
	CloseTLSHandshake       = wsproto.CloseTLSHandshake       // 1015: reserved; lws never reports it
)

// MaxControlPayload is the most bytes a PING or PONG carries (Conn.Write
// with WritePing or WritePong).
const MaxControlPayload = wsproto.MaxControlPayload
