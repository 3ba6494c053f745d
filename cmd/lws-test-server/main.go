// Command lws-test-server is libwebsockets' test server in Go: one port
// serving the test page over HTTP and the dumb-increment-protocol and
// lws-mirror-protocol WebSocket protocols. Options and wire behaviour:
// docs/test-apps.md.
//
// Open http://localhost:7681/ in a browser: the page shows the counter and
// a canvas whose strokes every other open copy of the page draws too. The
// page is tested in headless Chromium by the browsertest module.
//
// The same server with the mirror spanning several servers through NATS is
// lws-test-server-nats, in the backplane module.
package main

import "github.com/lws-go/lws/internal/testapp"

func main() { testapp.RunTestServer("lws-test-server", nil) }
