//go:build unix && !linux

package evloop

// platformBackend is what BackendDefault means on unix systems without epoll.
const platformBackend = BackendPoll

func newInternalPoller(b Backend) (poller, error) {
	if b != BackendPoll {
		return nil, ErrBackendUnavailable
	}
	return newPollPoller(), nil
}
