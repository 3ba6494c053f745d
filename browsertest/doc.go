// Package browsertest tests lws-test-server's test page (test.html) in a
// real browser: Debian's headless Chromium, driven through the DevTools
// protocol with chromedp, whose DevTools WebSocket connection is our own
// client (lws.Dial): the test dogfoods the library's client against
// Chromium's DevTools server as well.
//
// It is a separate Go module so the library's own go.mod stays free of
// browser-only dependencies; make test runs go vet and go test here too.
// The test builds cmd/lws-test-server from the parent module, starts it and
// Chromium on loopback ports, and checks what a person would see: both
// WebSocket connections open, the dumb-increment counter advancing, a
// stroke sent from one page drawn on a second page through
// lws-mirror-protocol, and the extensions each connection negotiated.
//
// It saves a screenshot of the second page; -screenshot chooses the file:
//
//	cd browsertest && go test -run TestTestPage -screenshot ../docs/test-page.png
//
// Chromium missing skips the test on a developer's machine and fails it
// under CI=true (scripts/install-peers.sh installs the chromium package).
package browsertest
