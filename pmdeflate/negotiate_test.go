package pmdeflate

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseExtensions(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want []Extension
		err  string // substring of the error, "" for none
	}{
		{in: nil},
		{in: []string{""}},
		{in: []string{" , ,"}},
		{in: []string{"permessage-deflate"}, want: []Extension{{Name: "permessage-deflate"}}},
		{
			in: []string{"permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate"},
			want: []Extension{
				{Name: "permessage-deflate", Params: []Param{{Name: "client_max_window_bits"}, {Name: "server_max_window_bits", Value: "10", HasValue: true}}},
				{Name: "permessage-deflate"},
			},
		},
		{
			in:   []string{"foo;a\t=\t\"1\"  ;b", "bar ,baz;c=\"x\\y\""},
			want: []Extension{{Name: "foo", Params: []Param{{Name: "a", Value: "1", HasValue: true}, {Name: "b"}}}, {Name: "bar"}, {Name: "baz", Params: []Param{{Name: "c", Value: "xy", HasValue: true}}}},
		},
		{in: []string{"x-webkit-deflate-frame, permessage-deflate;client_no_context_takeover"},
			want: []Extension{{Name: "x-webkit-deflate-frame"}, {Name: "permessage-deflate", Params: []Param{{Name: "client_no_context_takeover"}}}}},
		{in: []string{"permessage-deflate;"}, err: "missing parameter name"},
		{in: []string{"permessage-deflate; a="}, err: "missing parameter value"},
		{in: []string{"; a"}, err: "extension name"},
		{in: []string{"permessage deflate"}, err: "unexpected 'd'"},
		{in: []string{`p; a="1 2"`}, err: "not a token"},
		{in: []string{`p; a=""`}, err: "not a token"},
		{in: []string{`p; a="12`}, err: "unterminated"},
		{in: []string{`p; a="1\`}, err: "unterminated"},
		{in: []string{"p; a=\"1\x01\""}, err: "control character"},
		{in: []string{"p; a=1=2"}, err: "unexpected '='"},
		{in: []string{"p\x00"}, err: "unexpected"},
		{in: []string{"ok", "p; a=@"}, err: "bad character '@'"},
	} {
		got, err := ParseExtensions(tc.in)
		if tc.err != "" {
			var pe *Error
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q:\n got %+v, %v\nwant %+v", tc.in, got, err, tc.want)
		}
	}
}

// TestNegotiate: the server's choice among offers and its exact answer
// (RFC 7692 sections 5 and 7.1).
func TestNegotiate(t *testing.T) {
	takeover := ServerConfig{ServerContextTakeover: true}
	for _, tc := range []struct {
		name   string
		offers string
		cfg    ServerConfig
		want   string // "" when declined
	}{
		{"plain", "permessage-deflate", takeover, "permessage-deflate"},
		{"plain, pooled server compressor", "permessage-deflate", ServerConfig{}, "permessage-deflate; server_no_context_takeover"},
		{"client asks no server takeover", "permessage-deflate; server_no_context_takeover", takeover, "permessage-deflate; server_no_context_takeover"},
		{"client hint echoed", "permessage-deflate; client_no_context_takeover", takeover, "permessage-deflate; client_no_context_takeover"},
		{"server requires client no takeover", "permessage-deflate", ServerConfig{ServerContextTakeover: true, ClientNoContextTakeover: true}, "permessage-deflate; client_no_context_takeover"},
		{"C test client", "permessage-deflate; client_no_context_takeover; client_max_window_bits", ServerConfig{}, "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
		{"client_max_window_bits without value omitted", "permessage-deflate; client_max_window_bits", takeover, "permessage-deflate"},
		{"client_max_window_bits value echoed", "permessage-deflate; client_max_window_bits=10", takeover, "permessage-deflate; client_max_window_bits=10"},
		{"quoted value", `permessage-deflate; client_max_window_bits="9"`, takeover, "permessage-deflate; client_max_window_bits=9"},
		{"server_max_window_bits=15 echoed", "permessage-deflate; server_max_window_bits=15", takeover, "permessage-deflate; server_max_window_bits=15"},
		{"all four", "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=15; client_max_window_bits=8", takeover,
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=15; client_max_window_bits=8"},
		{"parameter names are case-insensitive", "Permessage-Deflate; Server_No_Context_Takeover", takeover, "permessage-deflate; server_no_context_takeover"},
		{"a small server window is honoured", "permessage-deflate; server_max_window_bits=10", takeover, "permessage-deflate; server_max_window_bits=10"},
		{"small server window loses to a later full offer", "permessage-deflate; server_max_window_bits=10, permessage-deflate; client_max_window_bits", takeover, "permessage-deflate"},
		{"first honourable offer wins", "permessage-deflate; server_max_window_bits=7, permessage-deflate; client_no_context_takeover, permessage-deflate", takeover, "permessage-deflate; client_no_context_takeover"},
		{"across header lines", "x-webkit-deflate-frame\npermessage-deflate; server_no_context_takeover", takeover, "permessage-deflate; server_no_context_takeover"},
		{"other extensions only", "x-webkit-deflate-frame, foo; bar=1", takeover, ""},
		{"no header", "", takeover, ""},

		// Offers to decline (section 7.1).
		{"unknown parameter", "permessage-deflate; foo", takeover, ""},
		{"repeated parameter", "permessage-deflate; client_no_context_takeover; client_no_context_takeover", takeover, ""},
		{"repeated window", "permessage-deflate; client_max_window_bits=9; client_max_window_bits=10", takeover, ""},
		{"flag with a value", "permessage-deflate; server_no_context_takeover=1", takeover, ""},
		{"server window without value", "permessage-deflate; server_max_window_bits", takeover, ""},
		{"window 7", "permessage-deflate; client_max_window_bits=7", takeover, ""},
		{"window 16", "permessage-deflate; server_max_window_bits=16", takeover, ""},
		{"leading zero", "permessage-deflate; server_max_window_bits=010", takeover, ""},
		{"sign", "permessage-deflate; client_max_window_bits=+9", takeover, ""},
		{"decline then accept", "permessage-deflate; foo=1, permessage-deflate; client_max_window_bits=12", takeover, "permessage-deflate; client_max_window_bits=12"},

		// A server limiting the client's window (section 7.1.2.2).
		{"limit answers a bare client_max_window_bits", "permessage-deflate; client_max_window_bits", ServerConfig{ClientMaxWindowBits: 10},
			"permessage-deflate; server_no_context_takeover; client_max_window_bits=10"},
		{"limit lowers a larger hint", "permessage-deflate; client_max_window_bits=12", ServerConfig{ClientMaxWindowBits: 10},
			"permessage-deflate; server_no_context_takeover; client_max_window_bits=10"},
		{"a smaller hint stays", "permessage-deflate; client_max_window_bits=9", ServerConfig{ClientMaxWindowBits: 10},
			"permessage-deflate; server_no_context_takeover; client_max_window_bits=9"},
		{"no limit without the client's parameter", "permessage-deflate", ServerConfig{ClientMaxWindowBits: 10},
			"permessage-deflate; server_no_context_takeover"},
		{"our client's offer", "permessage-deflate; client_no_context_takeover; client_max_window_bits", ServerConfig{ServerContextTakeover: true},
			"permessage-deflate; client_no_context_takeover"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var values []string
			if tc.offers != "" {
				values = strings.Split(tc.offers, "\n")
			}
			resp, ok, err := Negotiate(values, tc.cfg)
			if err != nil {
				t.Fatalf("Negotiate: %v", err)
			}
			if tc.want == "" {
				if ok {
					t.Fatalf("accepted %q with %q, want declined", tc.offers, resp)
				}
				return
			}
			if !ok || resp.String() != tc.want {
				t.Fatalf("answer %q (ok %v), want %q", resp, ok, tc.want)
			}
			// The answer is a valid response for a client that made the
			// offer: it parses under the response rules.
			exts, err := ParseExtensions([]string{resp.String()})
			if err != nil || len(exts) != 1 {
				t.Fatalf("answer does not parse: %v", err)
			}
			if back, why := parseParams(exts[0].Params, false); why != "" || back != resp {
				t.Fatalf("answer reparses as %+v (%s), want %+v", back, why, resp)
			}
		})
	}
	if _, ok, err := Negotiate([]string{"permessage-deflate; a=\"1"}, takeover); ok || err == nil {
		t.Errorf("malformed header: ok %v err %v, want declined with a syntax error", ok, err)
	}
}

func TestServerDirections(t *testing.T) {
	p, _, _ := Negotiate([]string{"permessage-deflate; server_max_window_bits=9; client_max_window_bits=11"}, ServerConfig{ServerContextTakeover: true})
	if got := p.Server(); got != (Direction{MaxWindowBits: 9}) {
		t.Errorf("server direction %+v", got)
	}
	if got := p.Client(); got != (Direction{MaxWindowBits: 11}) {
		t.Errorf("client direction %+v", got)
	}
	c, _ := NewCompressor(p.Server(), 6)
	if c.Level() != 1 || c.window != 512 {
		t.Errorf("a 9-bit server window compresses at level %d restarting every %d bytes, want level 1 and 512", c.Level(), c.window)
	}
	p, _, _ = Negotiate([]string{"permessage-deflate; client_max_window_bits"}, ServerConfig{})
	if got := p.Server(); got != (Direction{NoContextTakeover: true, MaxWindowBits: 15}) {
		t.Errorf("default server direction %+v", got)
	}
}

func TestClientOfferAndAccept(t *testing.T) {
	for _, tc := range []struct {
		cfg  ClientConfig
		want string
	}{
		{ClientConfig{}, "permessage-deflate; client_no_context_takeover; client_max_window_bits"},
		{ClientConfig{ClientContextTakeover: true}, "permessage-deflate; client_max_window_bits"},
		{ClientConfig{ClientContextTakeover: true, ServerNoContextTakeover: true}, "permessage-deflate; server_no_context_takeover; client_max_window_bits"},
		{ClientConfig{ServerMaxWindowBits: 10}, "permessage-deflate; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits"},
	} {
		if got := tc.cfg.Offer().String(); got != tc.want {
			t.Errorf("%+v offers %q, want %q", tc.cfg, got, tc.want)
		}
	}
	for _, tc := range []struct {
		cfg  ClientConfig
		resp string
		want string // agreed params; "declined"; or "error: <substring>"
	}{
		{ClientConfig{}, "", "declined"},
		{ClientConfig{}, "permessage-deflate", "permessage-deflate; client_no_context_takeover"},
		{ClientConfig{ClientContextTakeover: true}, "permessage-deflate", "permessage-deflate"},
		{ClientConfig{ClientContextTakeover: true}, "permessage-deflate; client_no_context_takeover", "permessage-deflate; client_no_context_takeover"},
		{ClientConfig{ClientContextTakeover: true}, "permessage-deflate; server_no_context_takeover", "permessage-deflate; server_no_context_takeover"},
		{ClientConfig{ClientContextTakeover: true}, "permessage-deflate; server_max_window_bits=8", "permessage-deflate; server_max_window_bits=8"},
		{ClientConfig{ServerNoContextTakeover: true}, "permessage-deflate; server_no_context_takeover", "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
		{ClientConfig{ServerNoContextTakeover: true}, "permessage-deflate", "error: not answered"},
		{ClientConfig{}, "permessage-deflate; client_max_window_bits=10", "permessage-deflate; client_no_context_takeover; client_max_window_bits=10"},
		{ClientConfig{ServerMaxWindowBits: 10}, "permessage-deflate; server_max_window_bits=9", "permessage-deflate; client_no_context_takeover; server_max_window_bits=9"},
		{ClientConfig{ServerMaxWindowBits: 10}, "permessage-deflate; server_max_window_bits=11", "error: answers an offer of 10"},
		{ClientConfig{ServerMaxWindowBits: 10}, "permessage-deflate", "error: server_max_window_bits was offered but not answered"},
		{ClientConfig{}, "permessage-deflate; client_max_window_bits", "error: needs a value"},
		{ClientConfig{}, "permessage-deflate; server_max_window_bits", "error: needs a value"},
		{ClientConfig{}, "permessage-deflate; server_max_window_bits=16", "error: bad value"},
		{ClientConfig{}, "permessage-deflate; server_no_context_takeover; server_no_context_takeover", "error: repeated"},
		{ClientConfig{}, "permessage-deflate; foo", "error: unknown parameter"},
		{ClientConfig{}, "permessage-deflate, permessage-deflate", "error: more than one"},
		{ClientConfig{}, "x-webkit-deflate-frame", "error: not offered"},
		{ClientConfig{}, "permessage-deflate; =", "error: where a parameter name should be"},
	} {
		var values []string
		if tc.resp != "" {
			values = []string{tc.resp}
		}
		p, ok, err := tc.cfg.Accept(values)
		var got string
		switch {
		case err != nil:
			got = "error: " + err.Error()
			if strings.HasPrefix(tc.want, "error: ") && strings.Contains(got, strings.TrimPrefix(tc.want, "error: ")) {
				continue
			}
		case !ok:
			got = "declined"
		default:
			got = p.String()
		}
		if got != tc.want {
			t.Errorf("offer %q, response %q: got %q, want %q", tc.cfg.Offer(), tc.resp, got, tc.want)
		}
	}
}

// TestServerAnswersOurClient: every answer the server gives to the
// client's offer is accepted by the client, with the same parameters.
func TestServerAnswersOurClient(t *testing.T) {
	for _, cc := range []ClientConfig{{}, {ClientContextTakeover: true}, {ServerNoContextTakeover: true},
		{ClientContextTakeover: true, ServerNoContextTakeover: true}, {ServerMaxWindowBits: 9}} {
		for _, sc := range []ServerConfig{{}, {ServerContextTakeover: true}, {ClientNoContextTakeover: true},
			{ServerContextTakeover: true, ClientNoContextTakeover: true}, {ClientMaxWindowBits: 11}} {
			resp, ok, err := Negotiate([]string{cc.Offer().String()}, sc)
			if err != nil || !ok {
				t.Fatalf("server %+v declined offer %q: %v", sc, cc.Offer(), err)
			}
			got, ok, err := cc.Accept([]string{resp.String()})
			if err != nil || !ok || got != resp {
				t.Errorf("client %+v, server %+v: server answered %q, client agreed %q (%v)", cc, sc, resp, got, err)
			}
		}
	}
}
