//go:build unix && !linux

package evloop

func newInternalPoller(bool) (poller, error) {
	return newPollPoller(), nil
}
