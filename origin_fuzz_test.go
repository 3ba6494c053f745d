package lws

import (
	"net"
	"net/url"
	"strings"
	"testing"
)

// FuzzSameOrigin checks the hand-written sameOrigin against a reference
// built on net/url: it may refuse what the reference allows (it is stricter
// about what a browser never sends), never the other way round.
func FuzzSameOrigin(f *testing.F) {
	for _, c := range [][2]string{
		{"http://localhost", "localhost"}, {"http://LocalHost:80", "localhost"},
		{"https://example.com/", "example.com:443"}, {"ws://[::1]:7681", "[::1]:7681"},
		{"http://user@localhost", "localhost"}, {"http://localhost/x", "localhost"},
		{"null", "localhost"}, {"http://local%68ost", "localhost"}, {"http://[::1", "[::1]"},
		{"http://a:1:2", "a:1"}, {"HTTP://A.example:", "a.example"},
	} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, origin, host string) {
		if sameOrigin(origin, host) && !sameOriginURL(origin, host) {
			t.Fatalf("sameOrigin(%q, %q) allows what net/url does not", origin, host)
		}
	})
}

// sameOriginURL is sameOrigin as it was written with net/url.
func sameOriginURL(origin, host string) bool {
	if host == "" {
		return false
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return false
	}
	defPort := ""
	switch strings.ToLower(u.Scheme) {
	case "http", "ws":
		defPort = "80"
	case "https", "wss":
		defPort = "443"
	default:
		return false
	}
	oHost, oPort := u.Hostname(), u.Port()
	if oPort == "" {
		oPort = defPort
	}
	hHost, hPort := host, ""
	if h, p, err := net.SplitHostPort(host); err == nil {
		hHost, hPort = h, p
	} else {
		hHost = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	}
	if hPort == "" {
		hPort = defPort
	}
	return oHost != "" && strings.EqualFold(oHost, hHost) && oPort == hPort
}
