// Package interop holds the tests that run lws for Go against real peers:
// libwebsockets' own C test apps, Python's websockets, Node's ws and
// Chromium. Each test builds our test apps, starts the peer for real and
// reads what it printed. A missing peer skips the test on a developer's
// machine and fails it under CI=true (make test installs the peers).
package interop
