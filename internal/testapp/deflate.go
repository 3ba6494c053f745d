package testapp

import "github.com/lws-go/lws"

// WithDeflate turns permessage-deflate on for p and returns it.
//
// The test server enables it on lws-mirror-protocol only, as the C test
// server of libwebsockets 4.1.6 effectively does: its permessage-deflate
// needs a protocol rx buffer of at least 128 bytes, and its
// dumb-increment-protocol has 10, so it declines the extension there. The
// C test client has the same rule but offers the extension anyway on its
// dumb-increment connection, and fails that connection ("illegal rsv
// bits") if a server accepts.
//
// Every message is compressed, however short: the C client stops reading
// (4.1.6) when a message arrives uncompressed on a connection where it
// negotiated the extension, so no Threshold here.
func WithDeflate(p *lws.Protocol) *lws.Protocol {
	p.Compression = &lws.Compression{}
	return p
}
