//go:build !lwsfault || !unix

package sockio

import "net"

// WrapConn returns c: this build injects no faults.
func WrapConn(c net.Conn) net.Conn { return c }

// ConnFD is -1: this build arms no resets.
func ConnFD(net.Conn) int { return -1 }
