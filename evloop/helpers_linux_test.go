package evloop

// fdBackends are the backends that poll fds on this system.
var fdBackends = []Backend{BackendEpoll, BackendPoll}
