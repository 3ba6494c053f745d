//go:build !unix

package evloop

// SizeTable sizes the table where there is no RLIMIT_NOFILE: the soft
// limit is taken to be DefaultTableCap, with no descriptor in use; max > 0
// caps the connection count.
func SizeTable(max int) (Sizing, error) {
	return SizeTableFor(max, DefaultTableCap, 0), nil
}
