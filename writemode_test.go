package lws_test

import (
	"testing"

	"github.com/lws-go/lws"
)

func TestWriteModeString(t *testing.T) {
	for m, want := range map[lws.WriteMode]string{
		lws.WriteText:                          "text",
		lws.WriteBinary:                        "binary",
		lws.WriteContinuation | lws.WriteNoFin: "continuation|nofin",
		lws.WritePing:                          "ping",
		lws.WritePong:                          "pong",
		lws.WriteMode(9):                       "WriteMode(9)",
	} {
		if got := m.String(); got != want {
			t.Errorf("WriteMode(%d).String() = %q, want %q", uint8(m), got, want)
		}
	}
}
