package wsproto

import "strconv"

// Opcode is the 4-bit frame opcode of RFC 6455 section 5.2.
type Opcode byte

// The opcodes defined by RFC 6455. Values 3-7 and 11-15 are reserved.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// IsControl reports whether op is in the control range (0x8-0xF), reserved
// control opcodes included.
func (op Opcode) IsControl() bool { return op&0x8 != 0 && op <= 0xF }

// IsData reports whether op is in the data range (0x0-0x7), reserved data
// opcodes included. Continuation counts as data.
func (op Opcode) IsData() bool { return op < 0x8 }

// IsReserved reports whether op is not one of the six opcodes RFC 6455
// defines (this includes values that do not fit in four bits).
func (op Opcode) IsReserved() bool {
	switch op {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
		return false
	}
	return true
}

// String returns the RFC name of op, or "opcode(N)" for a reserved value.
func (op Opcode) String() string {
	switch op {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return "opcode(" + strconv.Itoa(int(op)) + ")"
}
