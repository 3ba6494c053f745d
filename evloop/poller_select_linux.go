//go:build linux

package evloop

// platformBackend is what BackendDefault means on Linux.
const platformBackend = BackendEpoll

func newInternalPoller(b Backend) (poller, error) {
	if b == BackendPoll {
		return newPollPoller(), nil
	}
	return newEpollPoller()
}
