package lws

import "github.com/lws-go/lws/evloop"

// Backend selects how a service's loops learn that connections have work
// (Config.Backend).
type Backend = evloop.Backend

// testBackend replaces BackendDefault when set: the test suite's run
// with a backend forced (LWS_TEST_BACKEND, backend_env_test.go).
var testBackend = BackendDefault

const (
	// BackendDefault is epoll on Linux, poll(2) on the other unix systems
	// and BackendPortable on Windows.
	BackendDefault = evloop.BackendDefault
	// BackendEpoll waits with epoll; Linux only.
	BackendEpoll = evloop.BackendEpoll
	// BackendPoll waits with poll(2); unix systems only.
	BackendPoll = evloop.BackendPoll
	// BackendPortable serves each connection's net.Conn with a reader and
	// a writer goroutine that notify the loop: it runs wherever Go runs
	// (Windows), and costs two goroutines and a read buffer per
	// connection.
	BackendPortable = evloop.BackendPortable
)
