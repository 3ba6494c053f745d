package pmdeflate

import (
	"strings"
)

// ClientConfig is what a client offers. The zero value offers
// "permessage-deflate; client_no_context_takeover": the client's own
// compressor is pooled, and the server may keep its context.
type ClientConfig struct {
	// ClientContextTakeover keeps the client's compressor, with its
	// window, between messages (see the package doc for its memory);
	// without it the offer carries client_no_context_takeover.
	ClientContextTakeover bool
	// ServerNoContextTakeover offers server_no_context_takeover: the
	// server must compress every message from an empty window, so the
	// client keeps no window of inflated data.
	ServerNoContextTakeover bool
}

// Offer is the client's offer. It never names client_max_window_bits, so a
// server cannot limit the client's window below what compress/flate uses.
func (c ClientConfig) Offer() Params {
	return Params{ClientNoContextTakeover: !c.ClientContextTakeover, ServerNoContextTakeover: c.ServerNoContextTakeover}
}

// Accept checks the server's Sec-WebSocket-Extensions response values
// against c.Offer() (RFC 7692 section 5 and 7). ok is false when the server
// declined (no extension in its response). Every response the RFC says must
// fail the connection is an [*Error]: a syntax error, an extension that was
// not offered, permessage-deflate twice, an unknown or repeated parameter, a
// window parameter without a value or outside 8..15, client_max_window_bits
// (never offered), or an offered server_no_context_takeover left out.
func (c ClientConfig) Accept(values []string) (p Params, ok bool, err error) {
	exts, err := ParseExtensions(values)
	if err != nil {
		return Params{}, false, err
	}
	input := strings.Join(values, ", ")
	switch {
	case len(exts) == 0:
		return Params{}, false, nil
	case len(exts) > 1:
		return Params{}, false, newError(input, -1, "the server accepted more than one extension")
	case !strings.EqualFold(exts[0].Name, ExtensionName):
		return Params{}, false, newError(input, -1, "the server accepted extension "+exts[0].Name+", which was not offered")
	}
	p, why := parseParams(exts[0].Params, false)
	if why != "" {
		return Params{}, false, newError(input, -1, why)
	}
	offer := c.Offer()
	if p.ClientMaxWindowBits != 0 && offer.ClientMaxWindowBits == 0 {
		return Params{}, false, newError(input, -1, "client_max_window_bits in the response, but it was not offered")
	}
	if offer.ServerNoContextTakeover && !p.ServerNoContextTakeover {
		return Params{}, false, newError(input, -1, "server_no_context_takeover was offered but not answered")
	}
	// The offer's client_no_context_takeover is a promise: the agreed
	// parameters say so whether or not the server repeated it.
	p.ClientNoContextTakeover = p.ClientNoContextTakeover || offer.ClientNoContextTakeover
	return p, true, nil
}
