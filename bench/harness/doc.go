// Package harness runs the benchmark matrix of the bench module: it
// builds the echo servers (package servers, and the libwebsockets C server
// when libwebsockets-dev is installed) and the load tool (package load),
// starts each server as a process of its own for each run, drives it with
// the load tool, interleaves the servers (A B C ... A B C ...) over the
// repetitions so slow drifts of a shared machine hit every server alike,
// and writes RESULTS.md with the medians, the performance targets and an
// SVG chart drawn by chart.go.
package harness
