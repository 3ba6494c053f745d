//go:build race

package wsproto

// raceEnabled is set when the race detector is on; it changes allocation
// counts in the standard library, so allocation tests of std calls skip.
const raceEnabled = true
