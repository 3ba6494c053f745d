// Package servers holds the echo servers the benchmarks compare: lws for Go
// (one and two service loops), the Go WebSocket libraries gorilla/websocket,
// coder/websocket, gobwas/ws, lesismal/nbio and lxzan/gws, and two raw TCP
// echo servers that are the floor (a goroutine per connection, and one
// epoll loop). The libwebsockets C echo server is lwsc/echo.c beside this
// file; it is built with the system's libwebsockets-dev.
//
// Every server follows one rule, so one load tool drives them all: each
// data message is echoed back with the same type. With Options.Broadcast
// set, a message whose first byte is 'B' is instead sent to every other
// connection (the broadcast benchmark); the raw servers apply the same rule
// to each read that starts with 'B'.
//
// Each server is written the way its library's documentation shows a
// server, with default options, so the figures are what a user gets.
package servers
