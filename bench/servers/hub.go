package servers

import "sync"

// hub is the registry of connections of a goroutine-based server, for
// broadcast. T is the library's connection type.
type hub[T comparable] struct {
	mu    sync.Mutex
	conns map[T]struct{}
}

func newHub[T comparable]() *hub[T] { return &hub[T]{conns: make(map[T]struct{})} }

func (h *hub[T]) add(c T) {
	if h == nil {
		return
	}
	h.mu.Lock()
	h.conns[c] = struct{}{}
	h.mu.Unlock()
}

func (h *hub[T]) remove(c T) {
	if h == nil {
		return
	}
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
}

// each calls f for every connection but from, under the hub's lock (the
// way such a server loops over its connections).
func (h *hub[T]) each(from T, f func(T)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.conns {
		if c != from {
			f(c)
		}
	}
}
