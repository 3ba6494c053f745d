// Command soak is the churn soak of the service (make soak; not part of
// make test, it runs for minutes): over several cycles, thousands of
// client connections open, exchange messages and then close cleanly, abort,
// reset in the middle of a frame, or misbehave during the handshake, at
// random. After each cycle it waits for the service to hold no connection
// and prints the process's open fds, goroutines and live heap; it fails
// when fds or goroutines are not back to the baseline taken before the
// first cycle, or when the heap keeps growing from cycle to cycle.
//
// Clients and service share the process, so the counts cover both: the
// service's raw-socket connections, the library's own client connections
// (lws.Dial) and the soak's blocking net.Conn clients.
//
//	go run -race ./internal/soak -cycles 8 -conns 5000 -concurrency 1000
package main
