package pmdeflate

import "strings"

// ServerConfig is what a server agrees to. The zero value keeps the server's
// memory per connection low: no context takeover for its own compressor
// (answered with server_no_context_takeover), context takeover allowed to
// clients.
type ServerConfig struct {
	// ServerContextTakeover keeps the server's compressor, with its window,
	// from one message to the next when the client allows it: better
	// ratios on small similar messages, at the cost of a flate.Writer per
	// connection (see the package doc). Without it every answer carries
	// server_no_context_takeover and compressors are pooled.
	ServerContextTakeover bool
	// ClientNoContextTakeover answers client_no_context_takeover: clients
	// compress every message from an empty window, so the server keeps no
	// window of inflated data per connection.
	ClientNoContextTakeover bool
	// ClientMaxWindowBits, from 8 to 15, answers client_max_window_bits
	// with at most that window to clients that offer the parameter, so the
	// server keeps at most twice that window of their inflated data
	// between messages. A client that does not offer it may use 15 bits
	// (RFC 7692 section 7.1.2.2), and is accepted. 0 sets no limit.
	ClientMaxWindowBits int
}

// Negotiate chooses the permessage-deflate offer to accept from a client's
// Sec-WebSocket-Extensions header values (RFC 7692 section 5). Offers are
// tried in the client's order of preference; an offer is declined when it
// has an unknown or repeated parameter, a parameter with a missing or
// unexpected value, or a window value outside 8..15. An offer limiting the
// server's window below 15 bits is honoured (see [NewCompressor]), but
// only when no other offer of the header can be taken with the whole
// window. Other extensions are ignored (lws implements no other).
//
// ok reports whether an offer was accepted; resp is then both the agreed
// parameters and, through [Params.AppendHeader], the exact response
// element. err is a syntax error of the header, after which nothing is
// accepted.
func Negotiate(values []string, cfg ServerConfig) (resp Params, ok bool, err error) {
	exts, err := ParseExtensions(values)
	if err != nil {
		return Params{}, false, err
	}
	var fallback Params
	haveFallback := false
	for _, e := range exts {
		if !strings.EqualFold(e.Name, ExtensionName) {
			continue
		}
		offer, why := parseParams(e.Params, true)
		if why != "" {
			continue // declined
		}
		r := Params{
			// Without takeover on our side the answer must say so;
			// an offered server_no_context_takeover is accepted by
			// echoing it (section 7.1.1.1).
			ServerNoContextTakeover: offer.ServerNoContextTakeover || !cfg.ServerContextTakeover,
			// An offered client_no_context_takeover is echoed so the
			// hint becomes binding and no window is kept for the client
			// (section 7.1.1.2).
			ClientNoContextTakeover: offer.ClientNoContextTakeover || cfg.ClientNoContextTakeover,
			// An offered server_max_window_bits must be answered with the
			// same or a smaller value (section 7.1.2.1); we answer the same.
			ServerMaxWindowBits: offer.ServerMaxWindowBits,
		}
		// A client_max_window_bits value is echoed, or lowered to our
		// limit, which binds the client to it and sizes our window for it
		// (section 7.1.2.2). Without a value it is answered with our
		// limit, or left out: the client may then use 15 bits, and any
		// window inflates.
		switch lim := cfg.ClientMaxWindowBits; {
		case offer.ClientMaxWindowBits > 0 && lim > 0:
			r.ClientMaxWindowBits = min(offer.ClientMaxWindowBits, lim)
		case offer.ClientMaxWindowBits > 0:
			r.ClientMaxWindowBits = offer.ClientMaxWindowBits
		case offer.ClientMaxWindowBits == NoValue && lim > 0:
			r.ClientMaxWindowBits = lim
		}
		if r.ServerMaxWindowBits != 0 && r.ServerMaxWindowBits < MaxWindowBits {
			if !haveFallback {
				fallback, haveFallback = r, true
			}
			continue
		}
		return r, true, nil
	}
	if haveFallback {
		return fallback, true, nil
	}
	return Params{}, false, nil
}
