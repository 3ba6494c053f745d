package lws

// UserOf is c's user value (Conn.User) as a T, the type the program
// stores there with Conn.SetUser or UpgradeOptions.User:
//
//	type session struct{ name string }
//	...
//	OnReceive: func(c *lws.Conn, msg []byte) {
//		s := lws.UserOf[*session](c)
//		...
//	}
//
// It is the zero T when no value is set, and panics when the value is of
// another type, as the type assertion c.User().(T) does (a panic in a
// callback closes that connection with 1011). It costs about what that
// type assertion costs (see BenchmarkUserOf): nothing is stored per type,
// and Conn.User stays the one per-connection value (libwebsockets'
// per-session user data). Like Conn.User it is to be called on the
// connection's loop goroutine.
func UserOf[T any](c *Conn) T {
	u := c.User()
	if u == nil {
		var zero T
		return zero
	}
	return u.(T)
}
