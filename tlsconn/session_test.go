package tlsconn

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"testing"
	"time"
)

// pair makes a server and a client session for a fresh self-signed
// certificate, the client verifying it.
func pair(t *testing.T) (srv, cli *Session) {
	t.Helper()
	cert, certPEM, _, err := SelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(certPEM)
	srv = NewServer(ServerConfigFor(cert))
	cli = NewClient(ClientConfig(&tls.Config{RootCAs: roots}, "localhost"))
	t.Cleanup(func() { srv.Close(); cli.Close() })
	return srv, cli
}

// shuttle moves output between the sessions, step bytes at a time, until
// both handshakes end; it plays the loops of both sides.
func shuttle(t *testing.T, a, b *Session, step int) {
	t.Helper()
	notified := make(chan struct{}, 64)
	notify := func() {
		select {
		case notified <- struct{}{}:
		default:
		}
	}
	a.Start(notify)
	b.Start(notify)
	move := func(from, to *Session) {
		from.Flush(func(p []byte) (int, error) {
			p = p[:min(step, len(p))]
			if err := to.Feed(p); err != nil {
				t.Fatal(err)
			}
			return len(p), nil
		})
	}
	deadline := time.After(20 * time.Second)
	for {
		move(a, b)
		move(b, a)
		da, ea := a.Done()
		db, eb := b.Done()
		if da && db && !a.Pending() && !b.Pending() {
			if ea != nil || eb != nil {
				t.Fatalf("handshake: %v / %v", ea, eb)
			}
			return
		}
		select {
		case <-notified:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatal("handshake did not end")
		}
	}
}

// pump sends p from one session to the other, feeding the ciphertext in
// chunks of step bytes, and returns what the receiver decrypts.
func pump(t *testing.T, from, to *Session, p []byte, step int) []byte {
	t.Helper()
	if _, err := from.Write(p); err != nil {
		t.Fatal(err)
	}
	var wire []byte
	from.Flush(func(b []byte) (int, error) { wire = append(wire, b...); return len(b), nil })
	var got []byte
	buf := make([]byte, 5000)
	for len(wire) > 0 {
		k := min(step, len(wire))
		if err := to.Feed(wire[:k]); err != nil {
			t.Fatal(err)
		}
		wire = wire[k:]
		for {
			n, err := to.Read(buf)
			got = append(got, buf[:n]...)
			if errors.Is(err, ErrWouldBlock) {
				break
			}
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
		}
	}
	return got
}

func TestSessionHandshakeAndRecords(t *testing.T) {
	for _, step := range []int{1, 7, 1 << 20} {
		srv, cli := pair(t)
		shuttle(t, srv, cli, step)
		st := cli.ConnectionState()
		if st.NegotiatedProtocol != ALPN || st.Version < tls.VersionTLS12 || st.ServerName != "localhost" {
			t.Fatalf("state: ALPN %q version %x SNI %q", st.NegotiatedProtocol, st.Version, st.ServerName)
		}
		if got := srv.ConnectionState().ServerName; got != "localhost" {
			t.Fatalf("server saw SNI %q", got)
		}
		msg := bytes.Repeat([]byte("record layer on the loop "), 3000) // several records
		if got := pump(t, cli, srv, msg, step*13); !bytes.Equal(got, msg) {
			t.Fatalf("step %d: client to server: %d bytes, want %d", step, len(got), len(msg))
		}
		if got := pump(t, srv, cli, msg, step*13); !bytes.Equal(got, msg) {
			t.Fatalf("step %d: server to client: %d bytes, want %d", step, len(got), len(msg))
		}
		// close_notify reads as EOF.
		cli.CloseWrite()
		cli.Flush(func(b []byte) (int, error) { srv.Feed(b); return len(b), nil })
		if _, err := srv.Read(make([]byte, 10)); err != io.EOF {
			t.Fatalf("after close_notify: %v, want EOF", err)
		}
	}
}

func TestSessionRefusesUnknownCertificate(t *testing.T) {
	cert, _, _, _ := SelfSigned()
	srv := NewServer(ServerConfigFor(cert))
	cli := NewClient(ClientConfig(nil, "localhost")) // system roots do not know it
	defer srv.Close()
	defer cli.Close()
	notify := make(chan struct{}, 64)
	f := func() {
		select {
		case notify <- struct{}{}:
		default:
		}
	}
	srv.Start(f)
	cli.Start(f)
	for deadline := time.After(20 * time.Second); ; {
		srv.Flush(func(b []byte) (int, error) { cli.Feed(b); return len(b), nil })
		cli.Flush(func(b []byte) (int, error) { srv.Feed(b); return len(b), nil })
		if done, err := cli.Done(); done {
			var verr *tls.CertificateVerificationError
			if !errors.As(err, &verr) {
				t.Fatalf("client handshake ended with %v, want a certificate verification error", err)
			}
			return
		}
		select {
		case <-notify:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatal("no verification failure")
		}
	}
}

func TestSessionCloseEndsHandshake(t *testing.T) {
	srv, _ := pair(t)
	ended := make(chan struct{}, 8)
	srv.Start(func() { ended <- struct{}{} })
	srv.Feed([]byte{0x16, 0x03, 0x01}) // the start of a ClientHello, then nothing
	srv.Close()
	select {
	case <-ended:
	case <-time.After(20 * time.Second):
		t.Fatal("closing did not end the handshake goroutine")
	}
	if done, err := srv.Done(); !done || err == nil {
		t.Fatalf("Done %v %v, want a failed handshake", done, err)
	}
}

func TestSessionHandshakeInputBounded(t *testing.T) {
	srv, _ := pair(t)
	// Not started: nothing reads the input.
	if err := srv.Feed(make([]byte, MaxHandshakeInput)); err != nil {
		t.Fatal(err)
	}
	if err := srv.Feed([]byte{1}); err != ErrInputFull {
		t.Fatalf("Feed past the limit: %v, want ErrInputFull", err)
	}
	if _, err := srv.Read(make([]byte, 1)); err != ErrHandshaking {
		t.Fatalf("Read during the handshake: %v", err)
	}
}

// TestSessionEndInput: the end of the input reaches a running handshake
// after everything fed before it: a client given the server's whole
// flight and then the end completes its handshake; a server given part
// of a ClientHello and then the end fails with the end of the stream.
func TestSessionEndInput(t *testing.T) {
	srv, cli := pair(t)
	ended := make(chan *Session, 16)
	cli.Start(func() { ended <- cli })
	srv.Start(func() { ended <- srv })
	deadline := time.After(20 * time.Second)
	// until waits for the sessions' news until happened reports true.
	until := func(happened func() bool, what string) {
		t.Helper()
		for !happened() {
			select {
			case <-ended:
			case <-deadline:
				t.Fatalf("%s did not come", what)
			}
		}
	}
	handshakeEnded := func(s *Session) func() bool {
		return func() bool { done, _ := s.Done(); return done }
	}
	var hello []byte
	until(cli.Pending, "the ClientHello")
	cli.Flush(func(p []byte) (int, error) { hello = append(hello, p...); return len(p), nil })
	srv.Feed(hello)
	until(srv.Pending, "the server's flight")
	var flight []byte
	srv.Flush(func(p []byte) (int, error) { flight = append(flight, p...); return len(p), nil })
	cli.Feed(flight)
	cli.EndInput(io.EOF)
	until(handshakeEnded(cli), "the client handshake's end")
	if _, err := cli.Done(); err != nil {
		t.Fatalf("client handshake given the whole flight, then the end: %v", err)
	}

	srv2, _ := pair(t)
	srv2.Start(func() { ended <- srv2 })
	srv2.Feed(hello[:len(hello)/2])
	srv2.EndInput(io.EOF)
	until(handshakeEnded(srv2), "the server handshake's end")
	if _, err := srv2.Done(); !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("server handshake given half a ClientHello, then the end: %v, want the end of the stream", err)
	}
}
