package wsproto

import (
	"errors"
	"fmt"
	"testing"
)

func TestProtocolError(t *testing.T) {
	err := error(&ProtocolError{Code: CloseInvalidPayload, Reason: "text message is not valid UTF-8"})
	want := "wsproto: text message is not valid UTF-8 (close 1007 invalid frame payload data)"
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	wrapped := fmt.Errorf("read: %w", err)
	var pe *ProtocolError
	if !errors.As(wrapped, &pe) || pe.Code != CloseInvalidPayload {
		t.Fatalf("errors.As(%v) = %v, %v", wrapped, pe, pe != nil)
	}
	if !errors.Is(wrapped, &ProtocolError{Code: CloseInvalidPayload}) {
		t.Error("errors.Is by code did not match")
	}
	if errors.Is(wrapped, &ProtocolError{Code: CloseProtocolError}) {
		t.Error("errors.Is matched another code")
	}
	if errors.Is(wrapped, &ProtocolError{Code: CloseInvalidPayload, Reason: "other"}) {
		t.Error("errors.Is matched another reason")
	}
}
