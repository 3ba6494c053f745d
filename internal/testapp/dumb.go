package testapp

import (
	"strconv"
	"time"

	"github.com/lws-go/lws"
)

// DumbIncrementInterval is how often the counter is sent.
const DumbIncrementInterval = 50 * time.Millisecond

// dumbState is a dumb-increment connection's per-session data.
type dumbState struct {
	number int
	buf    [20]byte
}

// DumbIncrement is libwebsockets' dumb-increment-protocol: every 50 ms the
// server sends its counter as TEXT and increments it; "reset\n" sets it to
// 0, "closeme\n" closes with 1001 "seeya". With closeTest the connection is
// closed after 50 numbers (the test server's -c).
func DumbIncrement(closeTest bool) *lws.Protocol {
	return &lws.Protocol{
		Name:         "dumb-increment-protocol",
		RxBufferSize: 256,
		OnEstablished: func(c *lws.Conn) {
			c.SetUser(&dumbState{})
			c.SetTimer(DumbIncrementInterval)
		},
		OnTimer: func(c *lws.Conn) {
			c.RequestWriteable()
			c.SetTimer(DumbIncrementInterval)
		},
		OnWriteable: func(c *lws.Conn) {
			st := c.User().(*dumbState)
			if err := c.Write(strconv.AppendInt(st.buf[:0], int64(st.number), 10), lws.WriteText); err != nil {
				return
			}
			st.number++
			if closeTest && st.number == 50 {
				c.Close(lws.CloseNormal, "closetest")
			}
		},
		OnReceive: func(c *lws.Conn, data []byte) {
			switch string(data) {
			case "reset\n":
				c.User().(*dumbState).number = 0
			case "closeme\n":
				c.Close(lws.CloseGoingAway, "seeya")
			}
		},
	}
}
