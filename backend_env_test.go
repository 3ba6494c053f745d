package lws

import (
	"fmt"
	"os"
)

// LWS_TEST_BACKEND=poll or portable runs the test suite with every
// service that asks for the default backend on that one instead (make
// test runs the suite once more with each).
func init() {
	switch b := os.Getenv("LWS_TEST_BACKEND"); b {
	case "":
	case "poll":
		testBackend = BackendPoll
	case "portable":
		testBackend = BackendPortable
	default:
		panic(fmt.Sprintf("LWS_TEST_BACKEND=%q: want poll or portable", b))
	}
}
