//go:build !unix

package evloop

// fdBackends are the backends that poll fds on this system: none.
var fdBackends []Backend
