package lws

import "strconv"

var writeModeNames = [...]string{
	WriteText:         "text",
	WriteBinary:       "binary",
	WriteContinuation: "continuation",
	WritePing:         "ping",
	WritePong:         "pong",
}

// String names the mode as the frame's opcode is named ("text",
// "binary", "continuation", "ping", "pong"), with "|nofin" when
// WriteNoFin is set.
func (m WriteMode) String() string {
	base := m &^ WriteNoFin
	s := "WriteMode(" + strconv.Itoa(int(base)) + ")"
	if int(base) < len(writeModeNames) {
		s = writeModeNames[base]
	}
	if m&WriteNoFin != 0 {
		s += "|nofin"
	}
	return s
}
