package testapp

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"flag"
	"fmt"

	"github.com/lws-go/lws/logging"
	"github.com/lws-go/lws/tlsconn"
)

// ServerTLS holds a server app's TLS flags: -s/--ssl, --cert and --key.
type ServerTLS struct {
	On       bool
	CertFile string
	KeyFile  string
}

// ServerTLSFlags registers -s/--ssl (serve https and wss), --cert and
// --key (PEM files; without them -s makes a self-signed certificate for
// localhost, 127.0.0.1 and ::1 at start) on fs.
func ServerTLSFlags(fs *flag.FlagSet) *ServerTLS {
	t := &ServerTLS{}
	fs.BoolVar(&t.On, "s", false, "serve TLS (https and wss)")
	fs.BoolVar(&t.On, "ssl", false, "same as -s")
	fs.StringVar(&t.CertFile, "cert", "", "with -s: certificate chain PEM `file` (default: a self-signed certificate made at start)")
	fs.StringVar(&t.KeyFile, "key", "", "with -s: private key PEM `file`")
	return t
}

// Config is the service's TLS configuration: nil without -s.
func (t *ServerTLS) Config() (*tls.Config, error) {
	if !t.On {
		return nil, nil
	}
	if t.CertFile != "" || t.KeyFile != "" {
		if t.CertFile == "" || t.KeyFile == "" {
			return nil, fmt.Errorf("--cert and --key go together")
		}
		return tlsconn.ServerConfig(t.CertFile, t.KeyFile)
	}
	cert, _, _, err := tlsconn.SelfSigned()
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(cert.Certificate[0])
	logging.Noticef("TLS: self-signed certificate for localhost, 127.0.0.1 and ::1, SHA-256 %s (clients need -k)", hex.EncodeToString(sum[:]))
	return tlsconn.ServerConfigFor(cert), nil
}

// Scheme is "https" with -s, else "http".
func (t *ServerTLS) Scheme() string {
	if t.On {
		return "https"
	}
	return "http"
}

// InsecureFlag registers -k (libwebsockets' test client option: accept a
// self-signed or otherwise unverifiable server certificate) on fs.
func InsecureFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("k", false, "with --ssl: do not verify the server's certificate (self-signed test servers)")
}

// ClientTLS is a client app's TLS configuration: nil (verify against the
// system roots) unless insecure.
func ClientTLS(insecure bool) *tls.Config {
	if insecure {
		return &tls.Config{InsecureSkipVerify: true}
	}
	return nil
}
