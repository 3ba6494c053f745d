package lws

// ReadingPaused reports whether cc's reading is paused because its reader
// fell behind (or for a failure that waits for it): for the tests of
// package lws_test.
func ReadingPaused(cc *ClientConn) bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.paused
}
