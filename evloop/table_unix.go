//go:build unix

package evloop

import (
	"os"

	"golang.org/x/sys/unix"
)

// fallbackOpenFDs is assumed in use when /proc/self/fd cannot be read.
const fallbackOpenFDs = 16

// SizeTable reads RLIMIT_NOFILE and the open fds (counted in
// /proc/self/fd, or assumed to be 16 where that is unavailable) and sizes
// the table; max > 0 caps the connection count.
func SizeTable(max int) (Sizing, error) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return Sizing{}, err
	}
	return SizeTableFor(max, uint64(rl.Cur), openFDCount()), nil
}

// openFDCount counts the fds open in this process, not counting the one
// used to read the directory.
func openFDCount() int {
	for _, dir := range [...]string{"/proc/self/fd", "/dev/fd"} {
		ents, err := os.ReadDir(dir)
		if err != nil || len(ents) == 0 {
			continue
		}
		return len(ents) - 1
	}
	return fallbackOpenFDs
}
