package lws_test

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/lws-go/lws"
)

// Service.Stats counts what crossed the connections: data messages and
// their payload bytes both ways (fragmented ones once, control frames
// not), messages queued and refused by full send queues, connections and
// closes by code; it answers from a callback too, and before Run.
func TestServiceStats(t *testing.T) {
	idle, err := lws.New(lws.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if st := idle.Stats(); st.ConnectionsTotal != 0 || st.Closes != nil {
		t.Errorf("stats of a service never run: %+v", st)
	}
	idle.Close()

	p := &lws.Protocol{Name: "p"}
	p.OnReceive = func(c *lws.Conn, data []byte) {
		switch string(data) {
		case "flood": // the second message finds the queue full
			c.Send([]byte("8 bytes!"), lws.WriteText)
			c.Send([]byte("8 bytes?"), lws.WriteText)
		case "stats":
			st := c.Service().Stats()
			c.Write([]byte(strconv.FormatUint(st.MessagesReceived, 10)), lws.WriteText)
		default: // echo, piece by piece
			mode := lws.WriteText
			if lws.UserOf[bool](c) {
				mode = lws.WriteContinuation
			}
			if !c.IsFinalFragment() {
				mode |= lws.WriteNoFin
			}
			c.SetUser(!c.IsFinalFragment())
			c.Write(data, mode)
		}
	}
	svc := startService(t, lws.Config{Protocols: []*lws.Protocol{p}, Limits: lws.Limits{SendQueueSize: 10}})
	a, b := dialWS(t, svc, ""), dialWS(t, svc, "")
	expectText := func(rc *rawConn, want string) {
		t.Helper()
		var got []byte
		for {
			f, err := rc.readFrame(t)
			if err != nil {
				t.Fatalf("waiting for %q: %v", want, err)
			}
			got = append(got, f.payload...)
			if f.fin {
				break
			}
		}
		if string(got) != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}

	a.Write(frame(0x81, key1, []byte("hello")))
	expectText(a, "hello")
	if st := svc.Stats(); st.Connections != 2 || st.ConnectionsTotal != 2 {
		t.Errorf("with two connections open: Connections %d, ConnectionsTotal %d", st.Connections, st.ConnectionsTotal)
	}
	b.Write(append(frame(0x01, key1, []byte("ab")), frame(0x80, key1, []byte("cd"))...))
	expectText(b, "abcd")
	a.Write(frame(0x81, key1, []byte("flood")))
	expectText(a, "8 bytes!")
	a.Write(frame(0x89, key1, []byte("ping")))
	if f, err := a.readFrame(t); err != nil || f.op != 0xa {
		t.Fatalf("pong: %v %v", f, err)
	}
	a.Write(frame(0x81, key1, []byte("stats")))
	expectText(a, "4")
	if err := svc.Broadcast(p, []byte("all"), lws.WriteText); err != nil {
		t.Fatal(err)
	}
	expectText(a, "all")
	expectText(b, "all")
	big := strings.Repeat("x", 3000) // echoed from the caller's slice (writeDirect)
	b.Write(frame(0x81, key1, []byte(big)))
	expectText(b, big)

	a.Write(frame(0x88, key1, []byte{0x03, 0xe8}))
	a.expectClose(t)
	a.Close()
	b.Close()
	waitCond(t, "both connections counted closed", func() bool { return svc.Stats().Connections == 0 })

	got := svc.Stats()
	want := lws.Stats{
		ConnectionsTotal: 2,
		MessagesReceived: 5,                    // hello, abcd, flood, stats, big
		BytesReceived:    5 + 4 + 5 + 5 + 3000, // control frames not counted
		MessagesSent:     7,                    // hello, abcd, "8 bytes!", "4", all twice, big
		BytesSent:        5 + 4 + 8 + 1 + 3 + 3 + 3000,
		Queued:           3, // "8 bytes!", all twice
		Dropped:          1, // "8 bytes?"
		Closes:           map[lws.CloseCode]uint64{1000: 1, lws.CloseAbnormal: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stats\n got %+v\nwant %+v", got, want)
	}
}
