// Package testapp holds what the test apps share: the protocols of
// libwebsockets' test server (dumb-increment-protocol and
// lws-mirror-protocol), the HTTP handler with the embedded test page, and
// flag helpers. It is internal: the apps are its only users.
//
// The protocols keep their state on the service loop that calls them, so a
// service using them runs one loop (Config.Loops 0 or 1).
package testapp
