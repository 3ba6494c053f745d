package servers

import (
	"fmt"
	"net"
	"sort"
)

// Options configures an echo server.
type Options struct {
	// Addr is the "host:port" to listen on ("127.0.0.1:0" picks a port).
	Addr string
	// Broadcast turns on the broadcast rule: a message starting with 'B'
	// goes to every other connection instead of being echoed. Servers keep
	// a registry of connections only when it is set, so idle and echo runs
	// measure the library alone.
	Broadcast bool
}

// Server is a running echo server.
type Server interface {
	// Addr is the address it listens on.
	Addr() string
	// Close stops it.
	Close() error
}

// starters are the Go servers by name.
var starters = map[string]func(Options) (Server, error){}

func register(name string, f func(Options) (Server, error)) { starters[name] = f }

// Names lists the Go servers, sorted.
func Names() []string {
	names := make([]string, 0, len(starters))
	for n := range starters {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Start starts the named Go server.
func Start(name string, opt Options) (Server, error) {
	f, ok := starters[name]
	if !ok {
		return nil, fmt.Errorf("servers: unknown server %q (have %v)", name, Names())
	}
	if opt.Addr == "" {
		opt.Addr = "127.0.0.1:0"
	}
	return f(opt)
}

// IsBroadcast reports whether a message asks for a broadcast.
func IsBroadcast(msg []byte) bool { return len(msg) > 0 && msg[0] == 'B' }

// netServer is a Server around a net.Listener and a stop function.
type netServer struct {
	ln   net.Listener
	stop func() error
}

func (s *netServer) Addr() string { return s.ln.Addr().String() }

func (s *netServer) Close() error {
	if s.stop != nil {
		return s.stop()
	}
	return s.ln.Close()
}
