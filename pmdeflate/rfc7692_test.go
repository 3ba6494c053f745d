package pmdeflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"strings"
	"testing"
)

// The tests here go through every combination of the four parameters of
// RFC 7692 section 7.1 in offers (server role) and in responses (client
// role), checking each outcome against the section's rules, restated
// below rather than taken from the code under test.

// windowValues is every valid window, with 0 for "parameter absent".
var windowValues = []int{0, 8, 9, 10, 11, 12, 13, 14, 15}

// element writes a permessage-deflate element the way a peer might: the
// parameters in a fixed order, window values as tokens. bits -1 writes
// client_max_window_bits without a value.
func element(snct, cnct bool, smwb, cmwb int) string {
	s := "permessage-deflate"
	if snct {
		s += "; server_no_context_takeover"
	}
	if cnct {
		s += "; client_no_context_takeover"
	}
	if smwb != 0 {
		s += fmt.Sprintf("; server_max_window_bits=%d", smwb)
	}
	switch {
	case cmwb == NoValue:
		s += "; client_max_window_bits"
	case cmwb != 0:
		s += fmt.Sprintf("; client_max_window_bits=%d", cmwb)
	}
	return s
}

// checkCodec checks the compressor and decompressor made for the agreed
// directions: our compressor (tx) must stay within its window (below 15
// bits, it restarts every window bytes: see TestSmallWindowsKeptTo) and
// keep a window between messages only when context takeover is agreed and
// the window is whole; the decompressor (rx) keeps the peer's window.
func checkCodec(t *testing.T, what string, tx, rx Direction) {
	t.Helper()
	c, err := NewCompressor(tx, 0)
	if err != nil {
		t.Fatalf("%s: NewCompressor(%+v): %v", what, tx, err)
	}
	small := tx.MaxWindowBits < MaxWindowBits
	if wantWindow := map[bool]int{false: 0, true: 1 << tx.MaxWindowBits}[small]; c.window != wantWindow || c.Level() != flate.BestSpeed {
		t.Fatalf("%s: window of %d bits compressed at level %d restarting every %d bytes", what, tx.MaxWindowBits, c.Level(), c.window)
	}
	if c.ContextTakeover() != (!tx.NoContextTakeover && !small) {
		t.Fatalf("%s: direction %+v: compressor keeps its window: %v", what, tx, c.ContextTakeover())
	}
	d := NewDecompressor(rx)
	if want := 1 << rx.MaxWindowBits; d.window != want || d.takeover == rx.NoContextTakeover {
		t.Fatalf("%s: direction %+v: decompressor window %d takeover %v, want %d and %v", what, rx, d.window, d.takeover, want, !rx.NoContextTakeover)
	}
}

// roundTrip sends three similar messages through a compressor for d and a
// decompressor for d, the two ends of one direction.
func roundTrip(t *testing.T, d Direction) {
	t.Helper()
	c, _ := NewCompressor(d, 0)
	defer c.Close()
	z := NewDecompressor(d)
	for i := range 3 {
		msg := textMessage(i)[:3000+i]
		wire, err := c.Append(nil, msg, true)
		if err != nil {
			t.Fatal(err)
		}
		got, err := z.AppendMessage(nil, wire, 0)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("direction %+v, message %d: %d bytes back (%v)", d, i, len(got), err)
		}
	}
}

// TestNegotiateEveryOffer is the server role: each offer of every
// combination of the four parameters (client_max_window_bits also without
// a value), under every kind of server configuration.
func TestNegotiateEveryOffer(t *testing.T) {
	var configs []ServerConfig
	for _, sct := range []bool{false, true} {
		for _, cnct := range []bool{false, true} {
			for _, lim := range []int{0, 8, 12, 15} {
				configs = append(configs, ServerConfig{ServerContextTakeover: sct, ClientNoContextTakeover: cnct, ClientMaxWindowBits: lim})
			}
		}
	}
	trips := map[Direction]bool{}
	n := 0
	for _, cfg := range configs {
		for _, snct := range []bool{false, true} {
			for _, cnct := range []bool{false, true} {
				for _, smwb := range windowValues {
					for _, cmwb := range append([]int{NoValue}, windowValues...) {
						offer := element(snct, cnct, smwb, cmwb)
						resp, ok, err := Negotiate([]string{offer}, cfg)
						if err != nil || !ok {
							t.Fatalf("%+v declined %q (%v): every valid offer can be honoured", cfg, offer, err)
						}
						// 7.1.1.1: an offered server_no_context_takeover
						// must be answered; without takeover of its own the
						// server says so.
						wantSNCT := snct || !cfg.ServerContextTakeover
						// 7.1.1.2: the client's hint is echoed, and a server
						// that wants no client takeover says so.
						wantCNCT := cnct || cfg.ClientNoContextTakeover
						// 7.1.2.1: an offered server_max_window_bits is
						// answered with the same value (or smaller; lws
						// answers the same) and none is added.
						wantSMWB := smwb
						// 7.1.2.2: never answered unless offered; a value
						// offered is a ceiling; the server's limit applies
						// when the client offered the parameter.
						wantCMWB := 0
						switch {
						case cmwb == NoValue:
							wantCMWB = cfg.ClientMaxWindowBits
						case cmwb > 0 && cfg.ClientMaxWindowBits > 0:
							wantCMWB = min(cmwb, cfg.ClientMaxWindowBits)
						case cmwb > 0:
							wantCMWB = cmwb
						}
						want := element(wantSNCT, wantCNCT, wantSMWB, wantCMWB)
						if got := resp.String(); got != want {
							t.Fatalf("%+v answered %q with %q, want %q", cfg, offer, got, want)
						}
						// The answer is a valid response: it parses under
						// the response rules into the same parameters.
						exts, err := ParseExtensions([]string{resp.String()})
						if err != nil || len(exts) != 1 {
							t.Fatalf("answer %q does not parse: %v", resp, err)
						}
						if back, why := parseParams(exts[0].Params, false); why != "" || back != resp {
							t.Fatalf("answer %q reparses as %+v (%s)", resp, back, why)
						}
						checkCodec(t, fmt.Sprintf("server %+v, offer %q", cfg, offer), resp.Server(), resp.Client())
						trips[resp.Server()], trips[resp.Client()] = true, true
						n++
					}
				}
			}
		}
	}
	for d := range trips {
		roundTrip(t, d)
	}
	t.Logf("%d offers answered; %d directions round-tripped", n, len(trips))
}

// TestAcceptEveryAnswer is the client role: every combination of the
// four parameters in a response, to every kind of offer our client makes.
func TestAcceptEveryAnswer(t *testing.T) {
	var configs []ClientConfig
	for _, cct := range []bool{false, true} {
		for _, snct := range []bool{false, true} {
			for _, smwb := range []int{0, 8, 11, 15} {
				configs = append(configs, ClientConfig{ClientContextTakeover: cct, ServerNoContextTakeover: snct, ServerMaxWindowBits: smwb})
			}
		}
	}
	accepted, failed := 0, 0
	for _, cfg := range configs {
		offer := element(cfg.ServerNoContextTakeover, !cfg.ClientContextTakeover, cfg.ServerMaxWindowBits, NoValue)
		if got := cfg.Offer().String(); got != offer {
			t.Fatalf("%+v offers %q, want %q", cfg, got, offer)
		}
		for _, snct := range []bool{false, true} {
			for _, cnct := range []bool{false, true} {
				for _, smwb := range windowValues {
					for _, cmwb := range windowValues {
						resp := element(snct, cnct, smwb, cmwb)
						p, ok, err := cfg.Accept([]string{resp})
						// The client fails the connection when the response
						// leaves out an offered server_no_context_takeover
						// (7.1.1.1), or an offered server_max_window_bits, or
						// answers it with a larger window (7.1.2.1); it
						// accepts every other combination: either context
						// takeover refused, any server window when none was
						// offered, any client window since the offer has
						// client_max_window_bits (7.1.2.2).
						mustFail := cfg.ServerNoContextTakeover && !snct ||
							cfg.ServerMaxWindowBits != 0 && (smwb == 0 || smwb > cfg.ServerMaxWindowBits)
						if mustFail {
							if err == nil {
								t.Fatalf("offer %q, response %q accepted as %q; must fail", offer, resp, p)
							}
							failed++
							continue
						}
						if err != nil || !ok {
							t.Fatalf("offer %q, response %q: ok %v, %v; must be accepted", offer, resp, ok, err)
						}
						// The offer's client_no_context_takeover binds the
						// client whether or not it is answered.
						want := Params{ServerNoContextTakeover: snct, ClientNoContextTakeover: cnct || !cfg.ClientContextTakeover,
							ServerMaxWindowBits: smwb, ClientMaxWindowBits: cmwb}
						if p != want {
							t.Fatalf("offer %q, response %q agreed %q, want %q", offer, resp, p, want)
						}
						checkCodec(t, fmt.Sprintf("offer %q, response %q", offer, resp), p.Client(), p.Server())
						accepted++
					}
				}
			}
		}
	}
	t.Logf("%d responses accepted, %d refused", accepted, failed)
}

// TestAcceptRefusesMalformedAnswers: a response parameter that is not
// valid in a response fails the connection (RFC 7692 section 7, and 5:
// parameters not defined for a response, invalid values, repeats), each
// tried alone and beside a valid set of the others.
func TestAcceptRefusesMalformedAnswers(t *testing.T) {
	bad := []string{
		"client_max_window_bits", // a response needs a value
		"server_max_window_bits", // so does this, everywhere
		"client_max_window_bits=7", "client_max_window_bits=16", "client_max_window_bits=010", "client_max_window_bits=1a",
		"server_max_window_bits=7", "server_max_window_bits=16", "server_max_window_bits=+9", `server_max_window_bits="08"`,
		"server_no_context_takeover=1", "client_no_context_takeover=\"x\"",
		"server_no_context_takeover; server_no_context_takeover", "client_no_context_takeover; client_no_context_takeover",
		"server_max_window_bits=10; server_max_window_bits=10", "client_max_window_bits=9; client_max_window_bits=9",
		"mux", "client_max_window",
	}
	for _, cfg := range []ClientConfig{{}, {ClientContextTakeover: true, ServerNoContextTakeover: true}} {
		for _, b := range bad {
			for _, others := range []string{"", "; server_no_context_takeover", "; client_no_context_takeover; server_max_window_bits=12"} {
				for _, resp := range []string{"permessage-deflate; " + b + others, "permessage-deflate" + others + "; " + b} {
					if p, _, err := cfg.Accept([]string{resp}); err == nil {
						t.Errorf("offer %q, response %q accepted as %q", cfg.Offer(), resp, p)
					} else if !strings.HasPrefix(err.Error(), "pmdeflate: ") {
						t.Errorf("error %q", err)
					}
				}
			}
		}
	}
}
