package wsproto

import (
	"math"
	"strconv"
)

// Role is the side of the connection a Parser reads for.
type Role uint8

const (
	// RoleServer parses what a client sends: every frame must be masked.
	RoleServer Role = iota
	// RoleClient parses what a server sends: no frame may be masked.
	RoleClient
)

// String returns "server" or "client".
func (r Role) String() string {
	switch r {
	case RoleServer:
		return "server"
	case RoleClient:
		return "client"
	}
	return "role(" + strconv.Itoa(int(r)) + ")"
}

// ParserConfig configures a Parser. The zero value parses for a server with
// no size or fragment limits and no extension.
type ParserConfig struct {
	// Role selects the masking rule: RoleServer requires masked frames,
	// RoleClient requires unmasked ones.
	Role Role
	// MaxMessageSize caps the sum of the payload lengths announced by the
	// frames of one data message, in bytes as they travel on the wire (for
	// a compressed message the decompressed size is limited elsewhere).
	// A frame header that would take the message over the cap fails with
	// 1009 before any of its payload is delivered. 0 means no limit.
	MaxMessageSize int64
	// MaxFragments bounds fragment floods without limiting how finely a
	// legal message may be split: the frames of one data message may
	// number at most its payload bytes (as announced by its frames so far)
	// plus MaxFragments. A message whose frames all carry payload
	// therefore always passes, however small they are (MaxMessageSize caps
	// its size); what fails, with 1009, is a run of empty frames that
	// keeps a message open without bringing it closer to its end. 0 means
	// no limit.
	MaxFragments int
	// AllowRSV1 accepts the RSV1 bit on the first frame of a data message,
	// which permessage-deflate (RFC 7692) uses to mark the message
	// compressed. Without it RSV1 fails with 1002.
	AllowRSV1 bool
	// MaxChunk caps the payload bytes one EventData carries: a frame
	// longer than that is reported in several events, each consuming (and
	// unmasking) only its own bytes, so a caller that must stop between
	// chunks leaves the rest of its input untouched. 0 means no cap.
	MaxChunk int
}

// EventType says what Parser.Next found.
type EventType uint8

const (
	// EventNone: all input was consumed without completing anything.
	EventNone EventType = iota
	// EventData: a chunk of a text or binary message.
	EventData
	// EventControl: a whole close, ping or pong frame.
	EventControl
)

// String returns "none", "data" or "control".
func (t EventType) String() string {
	switch t {
	case EventNone:
		return "none"
	case EventData:
		return "data"
	case EventControl:
		return "control"
	}
	return "event(?)"
}

// Event is what Parser.Next reports. Its slices are valid only until the
// next call to Next.
type Event struct {
	Type EventType
	// Opcode is, for EventData, the opcode of the message (OpText or
	// OpBinary, also for chunks of continuation frames); for EventControl
	// the frame's opcode (OpClose, OpPing or OpPong).
	Opcode Opcode
	// Payload is, for EventData, the unmasked chunk, a subslice of the
	// buffer passed to Next (empty for a 0-length frame); for EventControl,
	// the whole unmasked payload, held inside the Parser.
	Payload []byte
	// MessageStart is set on the first chunk of a message.
	MessageStart bool
	// FrameFin is the FIN bit of the frame the chunk belongs to
	// (libwebsockets' lws_is_final_fragment).
	FrameFin bool
	// FrameRemaining is the number of payload bytes of this frame still to
	// come after this chunk (lws_remaining_packet_payload).
	FrameRemaining int64
	// MessageEnd is FrameFin && FrameRemaining == 0: the message is whole.
	MessageEnd bool
	// Compressed is the RSV1 bit of the message's first frame (only
	// possible with ParserConfig.AllowRSV1). The payload is then not
	// checked for UTF-8 here.
	Compressed bool
	// CloseCode and CloseReason are the parsed payload of a close frame;
	// CloseNoStatus and an empty reason when the payload was empty.
	CloseCode   CloseCode
	CloseReason []byte
}

type parserState uint8

const (
	stateHeader  parserState = iota // gathering a frame header
	stateData                       // inside a data frame's payload
	stateControl                    // gathering a control frame's payload
	stateFailed                     // a protocol error happened; sticky
)

// Parser is a push parser of the frames one peer sends (libwebsockets'
// lws_rx_sm), for either role. It keeps no reference to its input between
// calls and never allocates: a partial header and a control frame's payload
// (at most 125 bytes) are held inline, so a Parser is under 256 bytes and
// can be embedded in a connection. Init it before use; it is not safe for
// concurrent use.
type Parser struct {
	cfg ParserConfig
	err *ProtocolError // set when state is stateFailed

	state  parserState
	hdrLen uint8 // bytes of a partial header held in hdr
	hdr    [MaxHeaderSize]byte

	// The frame being read.
	opcode    Opcode // frame opcode, kept for control frames
	fin       bool
	masked    bool
	maskPos   uint8
	mask      [4]byte
	remaining int64 // payload bytes not yet consumed

	// The control frame payload gathered so far.
	ctlLen uint8
	ctl    [MaxControlPayload]byte

	// The data message in progress.
	inMessage    bool
	startPending bool // the next data event is the message's first
	compressed   bool
	checkUTF8    bool
	msgOpcode    Opcode
	msgSize      int64 // sum of announced frame lengths (saturating)
	fragments    int64 // frames so far
	utf8         UTF8Validator
}

// Init resets p to parse a new stream with cfg.
func (p *Parser) Init(cfg ParserConfig) {
	*p = Parser{cfg: cfg}
}

// Idle reports whether p holds no partial state: it is between frames,
// with no partial header, no control frame being gathered, no data message
// in progress, and it has not failed. An idle Parser may be Init again
// (for instance taken from a free list) without changing what it parses.
func (p *Parser) Idle() bool {
	return p.state == stateHeader && p.hdrLen == 0 && !p.inMessage
}

// InMessage reports whether a data message has started and not yet ended,
// whether or not any of its payload has been delivered. Control frames
// between its fragments do not change it.
func (p *Parser) InMessage() bool { return p.inMessage }

// Next parses b and returns at most one event and the number n of bytes of b
// it consumed; call it again with b[n:] until it returns EventNone. The
// payload of data frames is unmasked in place in b.
//
// EventNone means n == len(b) and more input is needed. EventData reports a
// chunk of message payload as soon as any is available, without waiting for
// the whole frame; a 0-length frame yields one EventData with an empty
// payload, so a 0-byte message still has MessageStart and MessageEnd.
// EventControl reports a whole control frame; it may come between the
// fragments of a data message, whose state is kept.
//
// err is a *ProtocolError naming the close code to send: 1002 for a reserved
// opcode or RSV bit, wrong masking for the role, a control frame over 125
// bytes or fragmented, a continuation without a message or a new message
// inside a fragmented one, RSV1 on a continuation or control frame, a 64-bit
// length with its top bit set, or a bad close payload code; 1007 for text
// that is not UTF-8 (unless Compressed; reported as soon as invalid is
// certain, or at MessageEnd if a sequence is unfinished) and for a close
// reason that is not UTF-8; 1009 for a message over MaxMessageSize, or
// with more frames than MaxFragments allows for its payload. After an error the Parser stays failed: every later call
// returns the same error and consumes nothing. On error, n counts the bytes
// examined before the failure and has no other use.
func (p *Parser) Next(b []byte) (ev Event, n int, err error) {
	for {
		switch p.state {
		case stateHeader:
			if n == len(b) {
				return
			}
			var h Header
			var hn int
			var perr *ProtocolError
			if p.hdrLen == 0 {
				hn, perr = parseHeader(b[n:], &h)
				if perr != nil {
					return p.fail(n, perr)
				}
				if hn == 0 {
					// Partial header: fewer than MaxHeaderSize bytes left.
					p.hdrLen = uint8(copy(p.hdr[:], b[n:]))
					return ev, len(b), nil
				}
				n += hn
			} else {
				old := int(p.hdrLen)
				c := copy(p.hdr[old:], b[n:])
				hn, perr = parseHeader(p.hdr[:old+c], &h)
				if perr != nil {
					return p.fail(n, perr)
				}
				if hn == 0 {
					p.hdrLen += uint8(c)
					return ev, len(b), nil
				}
				n += hn - old
				p.hdrLen = 0
			}
			if perr := p.startFrame(&h); perr != nil {
				return p.fail(n, perr)
			}
			if p.remaining == 0 {
				if p.state == stateControl {
					perr = p.controlEvent(&ev)
				} else {
					perr = p.dataEvent(&ev, b[n:n])
				}
				if perr != nil {
					return p.fail(n, perr)
				}
				return ev, n, nil
			}

		case stateData:
			if n == len(b) {
				return
			}
			c := len(b) - n
			if int64(c) > p.remaining {
				c = int(p.remaining)
			}
			if p.cfg.MaxChunk > 0 && c > p.cfg.MaxChunk {
				c = p.cfg.MaxChunk
			}
			if perr := p.dataEvent(&ev, b[n:n+c]); perr != nil {
				return p.fail(n, perr)
			}
			return ev, n + c, nil

		case stateControl:
			if n == len(b) {
				return
			}
			have := int(p.ctlLen)
			c := copy(p.ctl[have:have+int(p.remaining)], b[n:])
			if p.masked {
				p.maskPos = uint8(Mask(p.mask, int(p.maskPos), p.ctl[have:have+c]))
			}
			p.ctlLen += uint8(c)
			p.remaining -= int64(c)
			n += c
			if p.remaining == 0 {
				if perr := p.controlEvent(&ev); perr != nil {
					return p.fail(n, perr)
				}
				return ev, n, nil
			}

		default: // stateFailed
			return Event{}, 0, p.err
		}
	}
}

// fail puts p in the failed state with err.
func (p *Parser) fail(n int, err *ProtocolError) (Event, int, error) {
	p.state = stateFailed
	p.err = err
	return Event{}, n, err
}

// startFrame checks a parsed header against the connection's rules and the
// message in progress, and sets up the frame.
func (p *Parser) startFrame(h *Header) *ProtocolError {
	if h.Rsv2 || h.Rsv3 {
		return protocolErr("reserved bit RSV2 or RSV3 set")
	}
	if h.Rsv1 {
		switch {
		case !p.cfg.AllowRSV1:
			return protocolErr("reserved bit RSV1 set without a negotiated extension")
		case h.Opcode.IsControl():
			return protocolErr("RSV1 set on a " + h.Opcode.String() + " frame")
		case h.Opcode == OpContinuation:
			return protocolErr("RSV1 set on a continuation frame")
		}
	}
	if wantMasked := p.cfg.Role == RoleServer; h.Masked != wantMasked {
		if wantMasked {
			return protocolErr("unmasked frame from a client")
		}
		return protocolErr("masked frame from a server")
	}
	p.fin = h.Fin
	p.masked = h.Masked
	p.mask = h.Mask
	p.maskPos = 0
	p.remaining = h.Length
	if h.Opcode.IsControl() {
		p.opcode = h.Opcode
		p.ctlLen = 0
		p.state = stateControl
		return nil
	}
	if h.Opcode == OpContinuation {
		if !p.inMessage {
			return protocolErr("continuation frame without a message to continue")
		}
	} else {
		if p.inMessage {
			return protocolErr(h.Opcode.String() + " frame inside a fragmented message")
		}
		p.inMessage = true
		p.startPending = true
		p.msgOpcode = h.Opcode
		p.compressed = h.Rsv1
		p.checkUTF8 = h.Opcode == OpText && !h.Rsv1
		p.msgSize = 0
		p.fragments = 0
		p.utf8.Reset()
	}
	if limit := p.cfg.MaxMessageSize; limit > 0 && h.Length > limit-p.msgSize {
		return tooBigErr("message larger than allowed")
	}
	if h.Length > math.MaxInt64-p.msgSize {
		p.msgSize = math.MaxInt64 // only without a size limit
	} else {
		p.msgSize += h.Length
	}
	p.fragments++
	if extra := int64(p.cfg.MaxFragments); extra > 0 && p.fragments-extra > p.msgSize {
		return tooBigErr("message has more frames than its payload allows (empty fragments)")
	}
	p.state = stateData
	return nil
}

// dataEvent unmasks and checks chunk, the next payload bytes of the current
// data frame, and describes it in *ev.
func (p *Parser) dataEvent(ev *Event, chunk []byte) *ProtocolError {
	if p.masked {
		p.maskPos = uint8(Mask(p.mask, int(p.maskPos), chunk))
	}
	p.remaining -= int64(len(chunk))
	end := p.fin && p.remaining == 0
	if p.checkUTF8 {
		if !p.utf8.Write(chunk) {
			return invalidPayloadErr("text message is not valid UTF-8")
		}
		if end && !p.utf8.Complete() {
			return invalidPayloadErr("text message ends inside a UTF-8 sequence")
		}
	}
	ev.Type = EventData
	ev.Opcode = p.msgOpcode
	ev.Payload = chunk
	ev.MessageStart = p.startPending
	ev.FrameFin = p.fin
	ev.FrameRemaining = p.remaining
	ev.MessageEnd = end
	ev.Compressed = p.compressed
	p.startPending = false
	if p.remaining == 0 {
		p.state = stateHeader
		if p.fin {
			p.inMessage = false
		}
	}
	return nil
}

// controlEvent describes the control frame gathered in p.ctl in *ev.
func (p *Parser) controlEvent(ev *Event) *ProtocolError {
	ev.Type = EventControl
	ev.Opcode = p.opcode
	ev.Payload = p.ctl[:p.ctlLen]
	if p.opcode == OpClose {
		code, reason, err := ParseClosePayload(ev.Payload)
		if err != nil {
			return err.(*ProtocolError)
		}
		ev.CloseCode, ev.CloseReason = code, reason
	}
	p.state = stateHeader
	return nil
}
