package pmdeflate

import (
	"fmt"
	"strconv"
	"strings"
)

// ExtensionName is the extension token of permessage-deflate.
const ExtensionName = "permessage-deflate"

// Parameter names of RFC 7692 section 7.1.
const (
	ParamServerNoContextTakeover = "server_no_context_takeover"
	ParamClientNoContextTakeover = "client_no_context_takeover"
	ParamServerMaxWindowBits     = "server_max_window_bits"
	ParamClientMaxWindowBits     = "client_max_window_bits"
)

// Window sizes, in bits (RFC 7692 section 7.1.2).
const (
	MinWindowBits = 8
	MaxWindowBits = 15
)

// NoValue as Params.ClientMaxWindowBits is client_max_window_bits written
// without a value: in an offer it says the client accepts a limit from the
// server.
const NoValue = -1

// Params are the parameters of one permessage-deflate offer or response
// (RFC 7692 section 7.1). A zero window field means the parameter is absent
// (the 15-bit default).
type Params struct {
	ServerNoContextTakeover bool
	ClientNoContextTakeover bool
	ServerMaxWindowBits     int // 8..15, or 0
	ClientMaxWindowBits     int // 8..15, NoValue (offers only), or 0
}

// Direction is how the messages one side sends are compressed, as agreed.
type Direction struct {
	// NoContextTakeover: every message is compressed from an empty window.
	NoContextTakeover bool
	// MaxWindowBits is the largest LZ77 window the sender may use, 8..15.
	MaxWindowBits int
}

// Server is how the server compresses (and the client inflates).
func (p Params) Server() Direction {
	return Direction{NoContextTakeover: p.ServerNoContextTakeover, MaxWindowBits: windowBits(p.ServerMaxWindowBits)}
}

// Client is how the client compresses (and the server inflates).
func (p Params) Client() Direction {
	return Direction{NoContextTakeover: p.ClientNoContextTakeover, MaxWindowBits: windowBits(p.ClientMaxWindowBits)}
}

func windowBits(v int) int {
	if v < MinWindowBits || v > MaxWindowBits {
		return MaxWindowBits
	}
	return v
}

// String formats p as a Sec-WebSocket-Extensions element.
func (p Params) String() string {
	return string(p.AppendHeader(nil))
}

// AppendHeader appends p as a Sec-WebSocket-Extensions element
// ("permessage-deflate; ...") to dst.
func (p Params) AppendHeader(dst []byte) []byte {
	dst = append(dst, ExtensionName...)
	if p.ServerNoContextTakeover {
		dst = append(dst, "; "+ParamServerNoContextTakeover...)
	}
	if p.ClientNoContextTakeover {
		dst = append(dst, "; "+ParamClientNoContextTakeover...)
	}
	if p.ServerMaxWindowBits != 0 {
		dst = append(dst, "; "+ParamServerMaxWindowBits+"="...)
		dst = strconv.AppendInt(dst, int64(p.ServerMaxWindowBits), 10)
	}
	switch p.ClientMaxWindowBits {
	case 0:
	case NoValue:
		dst = append(dst, "; "+ParamClientMaxWindowBits...)
	default:
		dst = append(dst, "; "+ParamClientMaxWindowBits+"="...)
		dst = strconv.AppendInt(dst, int64(p.ClientMaxWindowBits), 10)
	}
	return dst
}

// parseParams checks the parameters of one permessage-deflate element: each
// known, at most once, with a value exactly where RFC 7692 allows one.
// offer selects the rules of an offer (client_max_window_bits may lack a
// value) or of a response (every window parameter has a value).
func parseParams(ps []Param, offer bool) (Params, string) {
	var p Params
	var seen [4]bool
	for _, q := range ps {
		var k int
		switch strings.ToLower(q.Name) {
		case ParamServerNoContextTakeover:
			k = 0
			p.ServerNoContextTakeover = true
		case ParamClientNoContextTakeover:
			k = 1
			p.ClientNoContextTakeover = true
		case ParamServerMaxWindowBits:
			k = 2
		case ParamClientMaxWindowBits:
			k = 3
		default:
			return p, "unknown parameter " + strconv.Quote(q.Name)
		}
		if seen[k] {
			return p, "parameter " + q.Name + " repeated"
		}
		seen[k] = true
		switch {
		case k < 2 && q.HasValue:
			return p, "parameter " + q.Name + " takes no value"
		case k == 2 || k == 3:
			if !q.HasValue {
				if k == 3 && offer {
					p.ClientMaxWindowBits = NoValue
					continue
				}
				return p, "parameter " + q.Name + " needs a value"
			}
			bits, ok := parseWindowBits(q.Value)
			if !ok {
				return p, "parameter " + q.Name + " has bad value " + strconv.Quote(q.Value) + " (want 8 to 15)"
			}
			if k == 2 {
				p.ServerMaxWindowBits = bits
			} else {
				p.ClientMaxWindowBits = bits
			}
		}
	}
	return p, ""
}

// CheckWindowBits reports whether bits is a window limit a configuration
// accepts: 0 (none) or 8 to 15.
func CheckWindowBits(bits int) error {
	if bits == 0 || bits >= MinWindowBits && bits <= MaxWindowBits {
		return nil
	}
	return fmt.Errorf("pmdeflate: window of %d bits: want %d to %d, or 0 for no limit", bits, MinWindowBits, MaxWindowBits)
}

// parseWindowBits accepts a decimal 8..15 without leading zeros.
func parseWindowBits(v string) (int, bool) {
	if len(v) == 0 || len(v) > 2 || v[0] == '0' {
		return 0, false
	}
	n := 0
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
		n = n*10 + int(v[i]-'0')
	}
	return n, n >= MinWindowBits && n <= MaxWindowBits
}
