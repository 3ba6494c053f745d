package tlsconn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// ALPN is the protocol lws negotiates: WebSocket and plain HTTP both run
// over HTTP/1.1.
const ALPN = "http/1.1"

// ServerConfig returns a server configuration with the certificate chain
// and key of the PEM files certFile and keyFile (libwebsockets'
// ssl_cert_filepath and ssl_private_key_filepath): TLS 1.2 or later,
// crypto/tls's default suites, ALPN http/1.1.
func ServerConfig(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("tlsconn: loading certificate %s and key %s: %w", certFile, keyFile, err)
	}
	return ServerConfigFor(cert), nil
}

// ServerConfigFor is ServerConfig for a certificate already loaded.
func ServerConfigFor(cert tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{ALPN}}
}

// ClientConfig returns the configuration a client uses to reach
// serverName: a clone of base (nil for the defaults: the system roots),
// with ServerName set for SNI and verification when base leaves it empty,
// ALPN http/1.1 unless base names protocols, and TLS 1.2 or later unless
// base sets a minimum. Verification stays on unless base turns it off
// (InsecureSkipVerify).
func ClientConfig(base *tls.Config, serverName string) *tls.Config {
	var cfg *tls.Config
	if base == nil {
		cfg = &tls.Config{}
	} else {
		cfg = base.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = serverName
	}
	if len(cfg.NextProtos) == 0 {
		cfg.NextProtos = []string{ALPN}
	}
	if cfg.MinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS12
	}
	return cfg
}

// SelfSigned makes a throwaway self-signed ECDSA P-256 certificate valid
// for a year for the given host names and IP addresses (localhost,
// 127.0.0.1 and ::1 when none), for test servers (lws-test-server -s).
// It returns the certificate and its PEM encodings, to hand to clients
// as a root or write to files.
func SelfSigned(hosts ...string) (cert tls.Certificate, certPEM, keyPEM []byte, err error) {
	if len(hosts) == 0 {
		hosts = []string{"localhost", "127.0.0.1", "::1"}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return cert, nil, nil, fmt.Errorf("tlsconn: generating a key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return cert, nil, nil, fmt.Errorf("tlsconn: serial number: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: hosts[0], Organization: []string{"lws for Go test certificate"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return cert, nil, nil, fmt.Errorf("tlsconn: creating a certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return cert, nil, nil, fmt.Errorf("tlsconn: encoding the key: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	cert, err = tls.X509KeyPair(certPEM, keyPEM)
	return cert, certPEM, keyPEM, err
}
