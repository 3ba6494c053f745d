package servers

import (
	"bufio"
	"io"
	"net"
	"sync"

	"github.com/gobwas/ws"
)

func init() { register("gobwas", startGobwas) }

// gobwasConn is one connection with its buffered writer; mu serialises
// writes between its echo goroutine and a broadcast.
type gobwasConn struct {
	bw *bufio.Writer
	mu sync.Mutex
}

// startGobwas is gobwas/ws's low-level echo: the zero-copy upgrade, then a
// goroutine per connection reading frame headers and payloads into a reused
// buffer through a bufio.Reader and writing frames through a bufio.Writer,
// flushed when no more input is buffered (so pipelined replies share a
// write). Broadcast writes one compiled frame to every connection.
func startGobwas(o Options) (Server, error) {
	var h *hub[*gobwasConn]
	if o.Broadcast {
		h = newHub[*gobwasConn]()
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, err
	}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go gobwasServe(conn, h)
		}
	}()
	return &netServer{ln: ln}, nil
}

func gobwasServe(conn net.Conn, h *hub[*gobwasConn]) {
	defer conn.Close()
	if _, err := ws.Upgrade(conn); err != nil {
		return
	}
	br := bufio.NewReaderSize(conn, 4096)
	c := &gobwasConn{bw: bufio.NewWriterSize(conn, 4096)}
	h.add(c)
	defer h.remove(c)
	var payload []byte
	for {
		hdr, err := ws.ReadHeader(br)
		if err != nil {
			return
		}
		if int64(cap(payload)) < hdr.Length {
			payload = make([]byte, hdr.Length)
		}
		payload = payload[:hdr.Length]
		if _, err := io.ReadFull(br, payload); err != nil {
			return
		}
		if hdr.Masked {
			ws.Cipher(payload, hdr.Mask, 0)
		}
		out := ws.Header{Fin: hdr.Fin, OpCode: hdr.OpCode, Length: hdr.Length}
		switch hdr.OpCode {
		case ws.OpClose:
			c.mu.Lock()
			_ = ws.WriteHeader(c.bw, out)
			_, _ = c.bw.Write(payload)
			_ = c.bw.Flush()
			c.mu.Unlock()
			return
		case ws.OpPing:
			out.OpCode = ws.OpPong
		case ws.OpPong:
			continue
		}
		if h != nil && IsBroadcast(payload) {
			frame, err := ws.CompileFrame(ws.NewFrame(hdr.OpCode, true, payload))
			if err != nil {
				return
			}
			h.each(c, func(d *gobwasConn) {
				d.mu.Lock()
				if _, err := d.bw.Write(frame); err == nil {
					_ = d.bw.Flush()
				}
				d.mu.Unlock()
			})
			continue
		}
		c.mu.Lock()
		err = ws.WriteHeader(c.bw, out)
		if err == nil {
			_, err = c.bw.Write(payload)
		}
		if err == nil && br.Buffered() == 0 {
			err = c.bw.Flush()
		}
		c.mu.Unlock()
		if err != nil {
			return
		}
	}
}
