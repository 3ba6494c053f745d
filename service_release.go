//go:build !lwsdebug

package lws

// reportOnLoop reports a Service method that waits for the loops called
// on a loop goroutine; release builds go on quietly (see Service.Close).
func reportOnLoop(method string) {}
