package pmdeflate

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// FuzzNegotiate feeds arbitrary Sec-WebSocket-Extensions values (lines are
// header fields) to the parser, the server and the client: nothing panics,
// what parses reparses identically from its printed form, and every server
// answer is a valid response with values the offer allows.
func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{
		"permessage-deflate",
		"permessage-deflate; client_max_window_bits",
		"permessage-deflate; client_no_context_takeover; client_max_window_bits",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9",
		"permessage-deflate; server_max_window_bits=9, permessage-deflate",
		"x-webkit-deflate-frame\npermessage-deflate; client_max_window_bits=\"12\"",
		"permessage-deflate; foo, permessage-deflate; server_max_window_bits=08",
		"a;b=\"c\\\"d\",,  ,e",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		values := strings.Split(in, "\n")
		exts, err := ParseExtensions(values)
		if err == nil {
			var printed []string
			for _, e := range exts {
				printed = append(printed, e.String())
			}
			again, err := ParseExtensions([]string{strings.Join(printed, ", ")})
			if err != nil || !reflect.DeepEqual(again, exts) {
				t.Fatalf("%q parsed as %+v, printed %q, reparsed %+v (%v)", in, exts, printed, again, err)
			}
		}
		for _, cfg := range []ServerConfig{{}, {ServerContextTakeover: true, ClientNoContextTakeover: true}, {ClientMaxWindowBits: 10}} {
			resp, ok, nerr := Negotiate(values, cfg)
			if (nerr != nil) != (err != nil) {
				t.Fatalf("Negotiate error %v, parser error %v", nerr, err)
			}
			if !ok {
				continue
			}
			rexts, err := ParseExtensions([]string{resp.String()})
			if err != nil || len(rexts) != 1 {
				t.Fatalf("answer %q does not parse: %v", resp, err)
			}
			back, why := parseParams(rexts[0].Params, false)
			if why != "" || back != resp {
				t.Fatalf("answer %q is not a valid response: %s", resp, why)
			}
			if !cfg.ServerContextTakeover && !resp.ServerNoContextTakeover {
				t.Fatalf("answer %q keeps a server context the config refuses", resp)
			}
			// The accepted offer is one of the input's, and the answer
			// does not widen it.
			found := false
			for _, e := range exts {
				if !strings.EqualFold(e.Name, ExtensionName) {
					continue
				}
				o, why := parseParams(e.Params, true)
				if why != "" {
					continue
				}
				if o.ServerNoContextTakeover && !resp.ServerNoContextTakeover ||
					o.ServerMaxWindowBits != resp.ServerMaxWindowBits ||
					o.ClientMaxWindowBits == 0 && resp.ClientMaxWindowBits != 0 ||
					o.ClientMaxWindowBits > 0 && resp.ClientMaxWindowBits > o.ClientMaxWindowBits ||
					cfg.ClientMaxWindowBits > 0 && o.ClientMaxWindowBits != 0 && resp.ClientMaxWindowBits > cfg.ClientMaxWindowBits {
					continue
				}
				found = true
			}
			if !found {
				t.Fatalf("answer %q matches no valid offer of %q", resp, in)
			}
		}
		for _, cc := range []ClientConfig{{}, {ClientContextTakeover: true, ServerNoContextTakeover: true}, {ServerMaxWindowBits: 10}} {
			p, ok, err := cc.Accept(values)
			if err != nil || !ok {
				continue
			}
			if cc.ServerNoContextTakeover && !p.ServerNoContextTakeover ||
				cc.ServerMaxWindowBits != 0 && (p.ServerMaxWindowBits == 0 || p.ServerMaxWindowBits > cc.ServerMaxWindowBits) ||
				!cc.ClientContextTakeover && !p.ClientNoContextTakeover {
				t.Fatalf("client %+v accepted %q as %+v", cc, in, p)
			}
		}
	})
}

// FuzzInflate feeds arbitrary bytes to the decompressor as compressed
// messages (twice, to exercise context takeover) and checks the cap holds
// and nothing panics; then it round-trips the bytes through the codec.
func FuzzInflate(f *testing.F) {
	f.Add([]byte{0x00})
	f.Add([]byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})
	f.Add(bomb(f))
	f.Add([]byte{0xff, 0xff, 0xff})
	c, _ := NewCompressor(Direction{}, 6)
	f.Add(func() []byte { b, _ := c.Append(nil, textMessage(0)[:3000], true); return b }())
	rtc, _ := NewCompressor(Direction{}, 1) // context takeover: keeps its writer
	rtc.Append(nil, nil, true)
	rtd := NewDecompressor(Direction{})
	f.Fuzz(func(t *testing.T, data []byte) {
		const limit = 64 << 10
		buf := make([]byte, 1000)
		for _, takeover := range []bool{false, true} {
			d := NewDecompressor(Direction{NoContextTakeover: !takeover})
			for round := 0; round < 2; round++ {
				d.Reset(data, limit)
				total := 0
				for {
					n, err := d.Read(buf)
					total += n
					if total > limit {
						t.Fatalf("%d bytes delivered past the %d limit", total, limit)
					}
					if err == io.EOF {
						break
					}
					if err != nil {
						if !errors.Is(err, ErrTooBig) && !errors.Is(err, ErrCorrupt) {
							t.Fatalf("unexpected error %v", err)
						}
						break
					}
				}
			}
			if d.HistoryBytes() > 2<<15 {
				t.Fatalf("history grew to %d bytes", d.HistoryBytes())
			}
		}
		// Round trip. The pair is made once: a fresh flate.Writer costs a
		// megabyte, and pools empty at every collection. Resetting both
		// ends keeps every run independent of the previous ones.
		rtc.d.w.Reset(&rtc.d.sink)
		rtd.hist = rtd.hist[:0]
		for round := 0; round < 2; round++ {
			wire, err := rtc.Append(nil, data, true)
			if err != nil {
				t.Fatal(err)
			}
			out, err := rtd.AppendMessage(nil, wire, 0)
			if err != nil || !bytes.Equal(out, data) {
				t.Fatalf("round trip: %d bytes back, %v", len(out), err)
			}
		}
	})
}
