package testapp

import (
	"net/url"
	"time"

	"github.com/lws-go/lws"
)

// Mirror flow control: when the slowest reader of an instance lags
// MirrorHighWater messages behind, every sender is paused (rx flow control)
// until all readers are back under MirrorLowWater. A reader that stays over
// the high-water mark for MirrorStuckTimeout is closed with 1008, so one
// stuck reader cannot stall the others for long, and the backlog the server
// holds is bounded by MirrorHighWater plus one message per sender.
const (
	MirrorHighWater    = 64
	MirrorLowWater     = 16
	MirrorStuckTimeout = 5 * time.Second
	mirrorBatch        = 16 // messages sent per writeable callback at most
)

type mirrorInstance struct {
	name    string
	msgs    [][]byte // msgs[i] is message number base+i
	base    uint64
	members map[*lws.Conn]*mirrorMember
	paused  map[*lws.Conn]struct{}
}

type mirrorMember struct {
	inst    *mirrorInstance
	next    uint64 // number of the next message to send
	lagging bool   // over the high-water mark, stuck timer running
}

func (m *mirrorInstance) head() uint64 { return m.base + uint64(len(m.msgs)) }

// minNext is the number of the oldest message some member still needs.
func (m *mirrorInstance) minNext() uint64 {
	min := m.head()
	for _, mm := range m.members {
		if mm.next < min {
			min = mm.next
		}
	}
	return min
}

// add appends one message (copied) to the stream, wakes every member and
// starts the stuck timer of those now over the high-water mark.
func (m *mirrorInstance) add(data []byte) {
	m.msgs = append(m.msgs, append([]byte(nil), data...))
	for rc, r := range m.members {
		rc.RequestWriteable()
		if !r.lagging && m.head()-r.next >= MirrorHighWater {
			r.lagging = true
			rc.SetTimer(MirrorStuckTimeout)
		}
	}
}

// trim drops messages every member has sent and resumes paused senders when
// the backlog is low again.
func (m *mirrorInstance) trim() {
	low := m.minNext()
	if drop := int(low - m.base); drop > 0 {
		clear(m.msgs[:drop])
		m.msgs = m.msgs[drop:]
		m.base = low
	}
	if m.head()-low <= MirrorLowWater {
		for c := range m.paused {
			c.ResumeRx()
			delete(m.paused, c)
		}
	}
}

// Mirror is libwebsockets' lws-mirror-protocol: every message received is
// sent as TEXT to every connection of the same instance, sender included,
// in order. The instance is chosen by "?mirror=<name>" (default "").
func Mirror() *lws.Protocol {
	p, _ := SpanningMirror(nil)
	return p
}

// MirrorFanout carries mirror messages to the other servers of a group
// (the backplane module implements it over NATS). Publish is called on
// the service loop with every message a local client sends, in order; it
// must not block for long and must not keep msg after it returns. An error
// is the fan-out's to count: local delivery goes on regardless.
type MirrorFanout interface {
	Publish(instance string, msg []byte) error
}

// SpanningMirror is Mirror spanning servers: every message a local client
// sends is also given to out (nil: none), and deliver takes the messages
// other servers published. deliver must run on the service loop (post it
// with Service.Post); it copies msg. A remote message joins the instance's
// stream like a local one, behind what is already queued, so the order of
// each sender is kept; an instance with no local member drops it. Remote
// senders cannot be paused: a reader that falls MirrorHighWater behind
// them is closed after MirrorStuckTimeout as for local senders.
func SpanningMirror(out MirrorFanout) (p *lws.Protocol, deliver func(instance string, msg []byte)) {
	instances := map[string]*mirrorInstance{}
	deliver = func(name string, msg []byte) {
		if inst := instances[name]; inst != nil {
			inst.add(msg)
		}
	}
	member := func(c *lws.Conn) *mirrorMember {
		mm, _ := c.User().(*mirrorMember)
		return mm
	}
	p = &lws.Protocol{
		Name:           "lws-mirror-protocol",
		Reassemble:     true,
		MaxMessageSize: 64 << 10,
		OnEstablished: func(c *lws.Conn) {
			q, _ := url.ParseQuery(c.RequestQuery())
			name := q.Get("mirror")
			inst := instances[name]
			if inst == nil {
				inst = &mirrorInstance{name: name, members: map[*lws.Conn]*mirrorMember{}, paused: map[*lws.Conn]struct{}{}}
				instances[name] = inst
			}
			mm := &mirrorMember{inst: inst, next: inst.head()}
			inst.members[c] = mm
			c.SetUser(mm)
		},
		OnReceive: func(c *lws.Conn, data []byte) {
			mm := member(c)
			if mm == nil {
				return
			}
			inst := mm.inst
			inst.add(data)
			if out != nil {
				_ = out.Publish(inst.name, data)
			}
			if inst.head()-inst.minNext() >= MirrorHighWater {
				c.PauseRx()
				inst.paused[c] = struct{}{}
			}
		},
		OnWriteable: func(c *lws.Conn) {
			mm := member(c)
			if mm == nil {
				return
			}
			inst := mm.inst
			for n := 0; n < mirrorBatch && mm.next < inst.head(); n++ {
				if err := c.Write(inst.msgs[mm.next-inst.base], lws.WriteText); err != nil {
					break
				}
				mm.next++
				if c.Buffered() > 0 {
					break // the socket is full: continue when it drains
				}
			}
			if mm.next < inst.head() {
				c.RequestWriteable()
			}
			if mm.lagging && inst.head()-mm.next < MirrorHighWater {
				mm.lagging = false
				c.SetTimer(0)
			}
			inst.trim()
		},
		OnTimer: func(c *lws.Conn) {
			mm := member(c)
			if mm == nil || !mm.lagging {
				return
			}
			// Leave the instance at once so the others go on, then close.
			delete(mm.inst.members, c)
			delete(mm.inst.paused, c)
			c.SetUser(nil)
			mm.inst.trim()
			c.Close(lws.ClosePolicyViolation, "mirror reader too slow")
		},
		OnClosed: func(c *lws.Conn, _ lws.CloseCode, _ string) {
			mm := member(c)
			if mm == nil {
				return
			}
			inst := mm.inst
			delete(inst.members, c)
			delete(inst.paused, c)
			inst.trim()
			if len(inst.members) == 0 {
				delete(instances, inst.name)
			}
		},
	}
	return p, deliver
}
