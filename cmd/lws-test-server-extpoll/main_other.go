//go:build !unix

package main

import (
	"fmt"
	"os"
)

// An external poll(2) loop needs descriptor sockets, which the portable
// backend of these systems does not have.
func main() {
	fmt.Fprintln(os.Stderr, "lws-test-server-extpoll: an external poll(2) loop needs a unix system")
	os.Exit(1)
}
