package servers

import (
	"github.com/lws-go/lws"
	"github.com/lws-go/lws/logging"
)

func init() {
	register("lws", func(o Options) (Server, error) { return startLws(o, 1) })
	register("lws-2loops", func(o Options) (Server, error) { return startLws(o, 2) })
}

// lwsServer is our echo server: whole messages (Protocol.Reassemble), each
// written back from OnReceive on the connection's loop; a broadcast goes
// through Service.Broadcast (to every connection of the protocol, the
// sender included).
type lwsServer struct {
	svc  *lws.Service
	done chan error
}

func startLws(o Options, loops int) (Server, error) {
	logging.SetLogLevel(logging.Err|logging.Warn, nil) // the others log nothing either
	s := &lwsServer{done: make(chan error, 1)}
	p := &lws.Protocol{Name: "echo", Reassemble: true}
	p.OnReceive = func(c *lws.Conn, msg []byte) {
		mode := lws.WriteText
		if c.IsBinary() {
			mode = lws.WriteBinary
		}
		if o.Broadcast && IsBroadcast(msg) {
			_ = s.svc.Broadcast(p, msg, mode)
			return
		}
		_ = c.Write(msg, mode)
	}
	svc, err := lws.New(lws.Config{Addr: o.Addr, Protocols: []*lws.Protocol{p}, Loops: loops})
	if err != nil {
		return nil, err
	}
	s.svc = svc
	go func() { s.done <- svc.Run() }()
	return s, nil
}

func (s *lwsServer) Addr() string { return s.svc.Addr().String() }

func (s *lwsServer) Close() error {
	s.svc.Close()
	return <-s.done
}
