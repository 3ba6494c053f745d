package wsproto

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseClosePayload(t *testing.T) {
	tests := []struct {
		name     string
		payload  string
		code     CloseCode
		reason   string
		wantCode CloseCode // of the error, 0 for none
	}{
		{"empty", "", CloseNoStatus, "", 0},
		{"one byte", "\x03", 0, "", CloseProtocolError},
		{"normal", "\x03\xe8", CloseNormal, "", 0},
		{"normal with reason", "\x03\xe8bye", CloseNormal, "bye", 0},
		{"utf8 reason", "\x03\xe9κόσμε€😀", CloseGoingAway, "κόσμε€😀", 0},
		{"1012", "\x03\xf4", CloseServiceRestart, "", 0},
		{"1014", "\x03\xf6", CloseBadGateway, "", 0},
		{"3000", "\x0b\xb8", 3000, "", 0},
		{"4999", "\x13\x87x", 4999, "x", 0},
		{"code 0", "\x00\x00", 0, "", CloseProtocolError},
		{"code 999", "\x03\xe7", 0, "", CloseProtocolError},
		{"code 1004", "\x03\xec", 0, "", CloseProtocolError},
		{"code 1005", "\x03\xed", 0, "", CloseProtocolError},
		{"code 1006", "\x03\xee", 0, "", CloseProtocolError},
		{"code 1015", "\x03\xf7", 0, "", CloseProtocolError},
		{"code 1016", "\x03\xf8", 0, "", CloseProtocolError},
		{"code 2999", "\x0b\xb7", 0, "", CloseProtocolError},
		{"code 5000", "\x13\x88", 0, "", CloseProtocolError},
		{"code 65535", "\xff\xff", 0, "", CloseProtocolError},
		{"bad reason", "\x03\xe8\xff", 0, "", CloseInvalidPayload},
		{"surrogate reason", "\x03\xe8\xed\xa0\x80", 0, "", CloseInvalidPayload},
		{"truncated reason", "\x03\xe8\xce", 0, "", CloseInvalidPayload},
		{"bad code and reason", "\x00\x00\xff", 0, "", CloseProtocolError},
	}
	for _, tt := range tests {
		code, reason, err := ParseClosePayload([]byte(tt.payload))
		if tt.wantCode != 0 {
			var pe *ProtocolError
			if !errors.As(err, &pe) || pe.Code != tt.wantCode {
				t.Errorf("%s: err = %v, want close code %d", tt.name, err, tt.wantCode)
			}
			continue
		}
		if err != nil || code != tt.code || string(reason) != tt.reason {
			t.Errorf("%s: = %d, %q, %v; want %d, %q", tt.name, code, reason, err, tt.code, tt.reason)
		}
	}
}

func TestAppendClosePayload(t *testing.T) {
	long := strings.Repeat("a", 200)
	tests := []struct {
		name   string
		code   CloseCode
		reason string
		want   string
	}{
		{"no status", CloseNoStatus, "ignored", ""},
		{"normal", CloseNormal, "", "\x03\xe8"},
		{"reason", CloseGoingAway, "bye", "\x03\xe9bye"},
		{"exactly 123", 4000, long[:123], "\x0f\xa0" + long[:123]},
		{"trimmed ascii", 4000, long, "\x0f\xa0" + long[:123]},
		// 122 ASCII bytes then a 2-byte rune: the rune does not fit.
		{"trimmed before 2-byte rune", CloseNormal, long[:122] + "é", "\x03\xe8" + long[:122]},
		{"2-byte rune fits", CloseNormal, long[:121] + "é", "\x03\xe8" + long[:121] + "é"},
		// 121 then a 4-byte rune crossing 123.
		{"trimmed before 4-byte rune", CloseNormal, long[:121] + "😀x", "\x03\xe8" + long[:121]},
		{"all 3-byte runes", CloseNormal, strings.Repeat("€", 50), "\x03\xe8" + strings.Repeat("€", 41)},
	}
	for _, tt := range tests {
		got := AppendClosePayload([]byte("pre"), tt.code, tt.reason)
		if string(got) != "pre"+tt.want {
			t.Errorf("%s: = %q, want %q", tt.name, got, "pre"+tt.want)
			continue
		}
		if len(got)-3 > MaxControlPayload {
			t.Errorf("%s: payload of %d bytes", tt.name, len(got)-3)
		}
		code, reason, err := ParseClosePayload(got[3:])
		if err != nil || code != tt.code || !strings.HasPrefix(tt.reason, string(reason)) || !utf8.Valid(reason) {
			t.Errorf("%s: does not parse back: %d %q %v", tt.name, code, reason, err)
		}
	}
	if b := AppendClosePayload(nil, CloseNormal, "x"); !bytes.Equal(b, []byte{3, 0xe8, 'x'}) {
		t.Errorf("AppendClosePayload(nil) = %x", b)
	}
}
