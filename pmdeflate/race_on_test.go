//go:build race

package pmdeflate

// raceEnabled is set when the race detector is on: it makes sync.Pool drop
// items at random, so allocation tests skip.
const raceEnabled = true
