//go:build linux

package evloop

func newInternalPoller(forcePoll bool) (poller, error) {
	if forcePoll {
		return newPollPoller(), nil
	}
	return newEpollPoller()
}
