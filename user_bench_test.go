package lws

import "testing"

type benchSession struct{ name string }

var sinkSession *benchSession

// BenchmarkUserOf and BenchmarkUserAssert compare the typed accessor with
// the type assertion it replaces: they cost the same.
func BenchmarkUserOf(b *testing.B) {
	c := &Conn{loop: &serviceLoop{}, user: &benchSession{"alice"}}
	for b.Loop() {
		sinkSession = UserOf[*benchSession](c)
	}
}

func BenchmarkUserAssert(b *testing.B) {
	c := &Conn{loop: &serviceLoop{}, user: &benchSession{"alice"}}
	for b.Loop() {
		sinkSession = c.User().(*benchSession)
	}
}
