package backplane

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/lws-go/lws"
	"github.com/lws-go/lws/wsproto"
)

// EventKind says what a Client read.
type EventKind uint8

const (
	// Message is a message of the stream, with its position.
	Message EventKind = iota
	// At starts a fresh connection: Position is the client's.
	At
	// Recovered grants a recovery: what was missed follows, then live
	// messages.
	Recovered
	// NotRecovered refuses a recovery: what was missed is lost; live
	// messages follow from Position.
	NotRecovered
	// Gap reports that the server lost messages on a live connection;
	// live messages follow from Position.
	Gap
)

func (k EventKind) String() string {
	switch k {
	case Message:
		return "message"
	case At:
		return "at"
	case Recovered:
		return "recovered"
	case NotRecovered:
		return "not-recovered"
	case Gap:
		return "gap"
	}
	return "unknown"
}

// Event is one message a Client read.
type Event struct {
	Kind     EventKind
	Data     []byte // Message: the data
	Binary   bool   // Message: it came as a binary message
	Position string // the position token after it ("" for Recovered)
	Reason   string // NotRecovered and Gap: why
}

var errBadFrame = errors.New("backplane: not a stream message")

// ParseEvent reads one message a framed client (one that presented
// "since") got from Stream.Serve.
func ParseEvent(data []byte, binary bool) (Event, error) {
	if len(data) > 0 && data[0] == StatusPrefix {
		if binary {
			return Event{}, errBadFrame
		}
		word, rest, _ := strings.Cut(string(data[1:]), " ")
		tok, reason, _ := strings.Cut(rest, " ")
		switch word {
		case "at":
			return Event{Kind: At, Position: tok}, nil
		case "recovered":
			return Event{Kind: Recovered}, nil
		case "not-recovered":
			return Event{Kind: NotRecovered, Position: tok, Reason: reason}, nil
		case "gap":
			return Event{Kind: Gap, Position: tok, Reason: reason}, nil
		}
		return Event{}, errBadFrame
	}
	i := bytes.IndexByte(data, ' ')
	if i <= 0 {
		return Event{}, errBadFrame
	}
	return Event{Kind: Message, Data: data[i+1:], Binary: binary, Position: string(data[:i])}, nil
}

// SinceURL is rawURL with the "since" query parameter set to since (a
// position token, or "" for a fresh start with positions).
func SinceURL(rawURL, since string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set(SinceParam, since)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Client is a WebSocket connection to a server of the group that serves
// a Stream, with positions: Dial presents the position to recover from,
// Read returns the statuses and messages and keeps the position of the
// last one, to present on the next Dial.
type Client struct {
	cc  *lws.ClientConn
	pos string
}

// Dial connects to rawURL (see lws.Dial) presenting since, the position
// token of the last message read on a previous connection ("" for a
// fresh start).
func Dial(ctx context.Context, rawURL, since string, opts *lws.DialOptions) (*Client, error) {
	u, err := SinceURL(rawURL, since)
	if err != nil {
		return nil, err
	}
	cc, err := lws.Dial(ctx, u, opts)
	if err != nil {
		return nil, err
	}
	return &Client{cc: cc, pos: since}, nil
}

// Read returns the next status or message.
func (c *Client) Read(ctx context.Context) (Event, error) {
	op, data, err := c.cc.ReadMessage(ctx)
	if err != nil {
		return Event{}, err
	}
	ev, err := ParseEvent(data, op == lws.WriteBinary)
	if err != nil {
		return Event{}, err
	}
	if ev.Position != "" {
		c.pos = ev.Position
	}
	return ev, nil
}

// Position is the token of the last position read (what Dial was given
// until something is read).
func (c *Client) Position() string { return c.pos }

// Conn is the connection, for writing.
func (c *Client) Conn() *lws.ClientConn { return c.cc }

// Close closes the connection.
func (c *Client) Close(code wsproto.CloseCode, reason string) error { return c.cc.Close(code, reason) }
