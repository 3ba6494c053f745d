package lws_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/tlsconn"
)

// BenchmarkWSSEcho is BenchmarkServerEcho over TLS: the same raw client
// frames through a crypto/tls client connection, the server decrypting,
// echoing and encrypting on its loop. Run beside BenchmarkServerEcho
// (go test -bench 'ServerEcho|WSSEcho') to see what TLS costs.
func BenchmarkWSSEcho(b *testing.B) {
	cert, roots := testCert()
	for _, size := range []int{16, 1024} {
		b.Run(byteSize(size), func(b *testing.B) {
			svc := startService(b, lws.Config{Protocols: []*lws.Protocol{echoProtocol("echo")}, TLS: tlsconn.ServerConfigFor(cert)})
			tc, err := tls.Dial("tcp", svc.Addr().String(), &tls.Config{RootCAs: roots, ServerName: "localhost"})
			if err != nil {
				b.Fatal(err)
			}
			defer tc.Close()
			c := &rawConn{Conn: tc, r: bufio.NewReader(tc)}
			tc.Write([]byte("GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\n\r\n"))
			tc.SetReadDeadline(time.Now().Add(10 * time.Second))
			if resp, err := http.ReadResponse(c.r, nil); err != nil || resp.StatusCode != 101 {
				b.Fatalf("handshake over TLS: %v %v", resp, err)
			}
			tc.SetReadDeadline(time.Time{})
			payload := bytes.Repeat([]byte("x"), size)
			req := frame(0x82, key1, payload)
			hdr := 2
			if size >= 126 {
				hdr = 4
			}
			resp := make([]byte, hdr+size)
			roundTrip := func() {
				if _, err := tc.Write(req); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c.r, resp); err != nil {
					b.Fatal(err)
				}
			}
			roundTrip()
			if !bytes.Equal(resp[hdr:], payload) {
				b.Fatal("echo mismatch")
			}
			b.ReportAllocs()
			b.SetBytes(int64(size))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				roundTrip()
			}
		})
	}
}
