package wsproto

import "testing"

func TestOpcode(t *testing.T) {
	tests := []struct {
		op                      Opcode
		control, data, reserved bool
		name                    string
	}{
		{OpContinuation, false, true, false, "continuation"},
		{OpText, false, true, false, "text"},
		{OpBinary, false, true, false, "binary"},
		{3, false, true, true, "opcode(3)"},
		{4, false, true, true, "opcode(4)"},
		{5, false, true, true, "opcode(5)"},
		{6, false, true, true, "opcode(6)"},
		{7, false, true, true, "opcode(7)"},
		{OpClose, true, false, false, "close"},
		{OpPing, true, false, false, "ping"},
		{OpPong, true, false, false, "pong"},
		{0xB, true, false, true, "opcode(11)"},
		{0xC, true, false, true, "opcode(12)"},
		{0xD, true, false, true, "opcode(13)"},
		{0xE, true, false, true, "opcode(14)"},
		{0xF, true, false, true, "opcode(15)"},
		{0x10, false, false, true, "opcode(16)"},
		{0xFF, false, false, true, "opcode(255)"},
	}
	for _, tt := range tests {
		if got := tt.op.IsControl(); got != tt.control {
			t.Errorf("Opcode(%d).IsControl() = %v, want %v", tt.op, got, tt.control)
		}
		if got := tt.op.IsData(); got != tt.data {
			t.Errorf("Opcode(%d).IsData() = %v, want %v", tt.op, got, tt.data)
		}
		if got := tt.op.IsReserved(); got != tt.reserved {
			t.Errorf("Opcode(%d).IsReserved() = %v, want %v", tt.op, got, tt.reserved)
		}
		if got := tt.op.String(); got != tt.name {
			t.Errorf("Opcode(%d).String() = %q, want %q", tt.op, got, tt.name)
		}
	}
}
