// Package testapp holds what the test apps share: the protocols of
// libwebsockets' test server (dumb-increment-protocol and
// lws-mirror-protocol), the HTTP handler with the embedded test page, the
// command-line handling (ParseFlags, the one parser of every app, GNU
// style; ServerFlags, the test servers' options), and lws-test-server
// itself (RunTestServer). docs/test-apps.md describes the apps. It is
// internal: the apps are its only users, with the backplane module's
// lws-test-server-nats (a nested module, so its import path may reach it),
// which spans the mirror over NATS through SpanningMirror.
//
// The protocols keep their state on the service loop that calls them, so a
// service using them runs one loop (Config.Loops 0 or 1).
package testapp
