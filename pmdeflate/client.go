package pmdeflate

import (
	"strconv"
	"strings"
)

// ClientConfig is what a client offers. The zero value offers
// "permessage-deflate; client_no_context_takeover; client_max_window_bits":
// the client's own compressor is pooled, it accepts any window limit the
// server sets for it, and the server may keep its context.
type ClientConfig struct {
	// ClientContextTakeover keeps the client's compressor, with its
	// window, between messages (see the package doc for its memory);
	// without it the offer carries client_no_context_takeover.
	ClientContextTakeover bool
	// ServerNoContextTakeover offers server_no_context_takeover: the
	// server must compress every message from an empty window, so the
	// client keeps no window of inflated data.
	ServerNoContextTakeover bool
	// ServerMaxWindowBits, from 8 to 15, offers server_max_window_bits: the
	// server must compress with at most that window (or decline), so the
	// client keeps at most twice that window of inflated data between
	// messages. 0 offers no limit.
	ServerMaxWindowBits int
}

// Offer is the client's offer. It always carries client_max_window_bits
// without a value: any window the server limits the client to is honoured
// (see [NewCompressor] for windows below 15 bits).
func (c ClientConfig) Offer() Params {
	return Params{
		ClientNoContextTakeover: !c.ClientContextTakeover,
		ServerNoContextTakeover: c.ServerNoContextTakeover,
		ServerMaxWindowBits:     c.ServerMaxWindowBits,
		ClientMaxWindowBits:     NoValue,
	}
}

// Accept checks the server's Sec-WebSocket-Extensions response values
// against c.Offer() (RFC 7692 sections 5 and 7). ok is false when the
// server declined (no extension in its response). Every valid answer is
// accepted: context takeover refused in either direction, and any window
// from 8 to 15 bits for the client and, unless the offer limited it, for
// the server. Every response the RFC says must fail the connection is an
// [*Error]: a syntax error, an extension that was not offered,
// permessage-deflate twice, an unknown or repeated parameter, a parameter
// with a value where it takes none or without one where it needs one, a
// window outside 8..15, an offered server_no_context_takeover left out, or
// an offered server_max_window_bits left out or answered with a larger
// window.
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
	if offer.ServerNoContextTakeover && !p.ServerNoContextTakeover {
		return Params{}, false, newError(input, -1, "server_no_context_takeover was offered but not answered")
	}
	if offer.ServerMaxWindowBits != 0 {
		switch {
		case p.ServerMaxWindowBits == 0:
			return Params{}, false, newError(input, -1, "server_max_window_bits was offered but not answered")
		case p.ServerMaxWindowBits > offer.ServerMaxWindowBits:
			return Params{}, false, newError(input, -1, "server_max_window_bits="+strconv.Itoa(p.ServerMaxWindowBits)+
				" answers an offer of "+strconv.Itoa(offer.ServerMaxWindowBits))
		}
	}
	// The offer's client_no_context_takeover is a promise: the agreed
	// parameters say so whether or not the server repeated it.
	p.ClientNoContextTakeover = p.ClientNoContextTakeover || offer.ClientNoContextTakeover
	return p, true, nil
}
