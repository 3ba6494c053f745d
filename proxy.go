package lws

// HTTP proxies for client connections: the connection is opened to the
// proxy, which is asked with CONNECT (RFC 9110 section 9.3.6) for a tunnel
// to the server; the WebSocket handshake then runs through the tunnel.
//
// The proxy is ClientInfo.Proxy, or else taken from the environment as
// curl and Go's net/http do: HTTPS_PROXY / https_proxy for wss, HTTP_PROXY /
// http_proxy for ws, unless NO_PROXY / no_proxy names the host. Loopback
// hosts (localhost, 127.0.0.0/8, ::1) are never proxied from the
// environment.

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// proxyFor returns the proxy to use for a connection to host:port, or nil
// for a direct connection.
func proxyFor(info *ClientInfo, secure bool, host string, port int) (*url.URL, error) {
	raw := info.Proxy
	if raw == "" {
		if info.NoProxy || isLoopbackHost(host) {
			return nil, nil
		}
		if secure {
			raw = getenvAny("HTTPS_PROXY", "https_proxy")
		} else {
			raw = getenvAny("HTTP_PROXY", "http_proxy")
		}
		if raw == "" || noProxyMatch(getenvAny("NO_PROXY", "no_proxy"), host, port) {
			return nil, nil
		}
	}
	return parseProxy(raw)
}

func getenvAny(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// parseProxy parses "http://[user:pass@]host[:port]" or "host:port".
func parseProxy(raw string) (*url.URL, error) {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("lws: proxy: %w", err)
	}
	if !strings.EqualFold(u.Scheme, "http") {
		return nil, fmt.Errorf("lws: proxy %q: only http:// proxies (CONNECT) are supported", raw)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("lws: proxy %q has no host", raw)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("lws: proxy %q: bad port", raw)
		}
	}
	return u, nil
}

// proxyAddr is the host and port to connect to for proxy u (port 80 by
// default).
func proxyAddr(u *url.URL) (string, int) {
	port := 80
	if p := u.Port(); p != "" {
		port, _ = strconv.Atoi(p)
	}
	return u.Hostname(), port
}

// appendConnectRequest appends the CONNECT request for target
// ("host:port"), with Basic credentials when the proxy URL has them.
func appendConnectRequest(b []byte, target string, proxy *url.URL) []byte {
	b = append(b, "CONNECT "...)
	b = append(b, target...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, target...)
	b = append(b, "\r\n"...)
	if u := proxy.User; u != nil {
		pass, _ := u.Password()
		b = append(b, "Proxy-Authorization: Basic "...)
		b = base64.StdEncoding.AppendEncode(b, []byte(u.Username()+":"+pass))
		b = append(b, "\r\n"...)
	}
	return append(b, "\r\n"...)
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// noProxyMatch reports whether the no_proxy list (comma or space
// separated) exempts host:port: "*" matches every host; an entry may be a
// host name (matching it and its subdomains; a leading "." or "*." makes
// it match subdomains only), an IP address, a CIDR prefix, any of these
// with ":port".
func noProxyMatch(list, host string, port int) bool {
	host = strings.ToLower(host)
	ip, ipErr := netip.ParseAddr(host)
	for _, e := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' }) {
		e = strings.ToLower(strings.TrimSpace(e))
		if e == "*" {
			return true
		}
		if pfx, err := netip.ParsePrefix(e); err == nil {
			if ipErr == nil && pfx.Contains(ip.Unmap()) {
				return true
			}
			continue
		}
		if h, p, ok := splitEntryPort(e); ok {
			if p != port {
				continue
			}
			e = h
		}
		e = strings.Trim(e, "[]")
		if eip, err := netip.ParseAddr(e); err == nil {
			if ipErr == nil && eip.Unmap() == ip.Unmap() {
				return true
			}
			continue
		}
		subOnly := false
		if strings.HasPrefix(e, "*.") {
			e, subOnly = e[1:], true
		} else if strings.HasPrefix(e, ".") {
			subOnly = true
		}
		e = strings.TrimPrefix(e, ".")
		if e == "" {
			continue
		}
		if (!subOnly && host == e) || strings.HasSuffix(host, "."+e) {
			return true
		}
	}
	return false
}

// splitEntryPort splits "host:port" or "[v6]:port" of a no_proxy entry.
func splitEntryPort(e string) (string, int, bool) {
	i := strings.LastIndexByte(e, ':')
	if i < 0 || (strings.Count(e, ":") > 1 && !strings.HasPrefix(e, "[")) {
		return "", 0, false
	}
	p, err := strconv.Atoi(e[i+1:])
	if err != nil {
		return "", 0, false
	}
	return e[:i], p, true
}
