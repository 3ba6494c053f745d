//go:build lwsdebug

package lws

import "github.com/lws-go/lws/logging"

// reportOnLoop reports a Service method that waits for the loops called
// on a loop goroutine, where it cannot wait for the loop it runs on: it
// goes on without waiting (see Service.Close), and this build says so.
func reportOnLoop(method string) {
	logging.Errf("lws: Service.%s called on a loop goroutine (from a callback or posted function): it cannot wait for its own loop and completes after returning; call it from another goroutine", method)
}
