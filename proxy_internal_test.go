package lws

import "testing"

func TestNoProxyMatch(t *testing.T) {
	cases := []struct {
		list, host string
		port       int
		want       bool
	}{
		{"", "example.com", 80, false},
		{"*", "example.com", 80, true},
		{"example.com", "example.com", 80, true},
		{"example.com", "www.example.com", 80, true},
		{"example.com", "badexample.com", 80, false},
		{".example.com", "example.com", 80, false},
		{".example.com", "a.example.com", 80, true},
		{"*.example.com", "a.b.example.com", 80, true},
		{"*.example.com", "example.com", 80, false},
		{"EXAMPLE.com", "Example.COM", 80, true},
		{"other.org, example.com", "example.com", 80, true},
		{"other.org example.com", "example.com", 80, true},
		{"example.com:8080", "example.com", 8080, true},
		{"example.com:8080", "example.com", 80, false},
		{"10.0.0.0/8", "10.1.2.3", 80, true},
		{"10.0.0.0/8", "11.1.2.3", 80, false},
		{"10.0.0.0/8", "ten.example", 80, false},
		{"192.168.1.1", "192.168.1.1", 80, true},
		{"192.168.1.1:81", "192.168.1.1", 80, false},
		{"[2001:db8::1]:443", "2001:db8::1", 443, true},
		{"2001:db8::/32", "2001:db8::5", 443, true},
		{"2001:db8::1", "2001:db8::1", 443, true},
	}
	for _, tc := range cases {
		if got := noProxyMatch(tc.list, tc.host, tc.port); got != tc.want {
			t.Errorf("noProxyMatch(%q, %q, %d) = %v, want %v", tc.list, tc.host, tc.port, got, tc.want)
		}
	}
}

func TestProxyFor(t *testing.T) {
	t.Setenv("HTTP_PROXY", "")
	t.Setenv("http_proxy", "proxy.example:3128")
	t.Setenv("HTTPS_PROXY", "http://secure-proxy.example")
	t.Setenv("NO_PROXY", "internal.example")
	cases := []struct {
		info   ClientInfo
		secure bool
		host   string
		want   string // proxy host:port, "" for direct
	}{
		{ClientInfo{}, false, "ws.example", "proxy.example:3128"},
		{ClientInfo{}, true, "ws.example", "secure-proxy.example:80"},
		{ClientInfo{}, false, "db.internal.example", ""},
		{ClientInfo{}, false, "localhost", ""},
		{ClientInfo{}, false, "127.0.0.2", ""},
		{ClientInfo{}, false, "::1", ""},
		{ClientInfo{NoProxy: true}, false, "ws.example", ""},
		{ClientInfo{Proxy: "http://explicit.example:8000"}, false, "localhost", "explicit.example:8000"},
	}
	for _, tc := range cases {
		u, err := proxyFor(&tc.info, tc.secure, tc.host, 80)
		if err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
		got := ""
		if u != nil {
			h, p := proxyAddr(u)
			got = hostPort(h, p, false)
		}
		if got != tc.want {
			t.Errorf("proxyFor(%+v, secure %v, %q) = %q, want %q", tc.info, tc.secure, tc.host, got, tc.want)
		}
	}
	if _, err := parseProxy("https://p.example"); err == nil {
		t.Error("https proxy accepted")
	}
}
