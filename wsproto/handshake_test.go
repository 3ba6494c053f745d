package wsproto

import (
	"encoding/base64"
	"testing"
)

func TestAcceptKey(t *testing.T) {
	tests := []struct{ key, want string }{
		// RFC 6455 section 1.3.
		{"dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
		{"x3JJHMbDL1EzLkh9GBhXDw==", "HSmrc0sMlYUkAGmm5OPpG2HaGWk="},
		{"", "Kfh9QIsMVZcl6xEPYxPHzW8SZ8w="},
	}
	for _, tt := range tests {
		if got := AcceptKey(tt.key); got != tt.want {
			t.Errorf("AcceptKey(%q) = %q, want %q", tt.key, got, tt.want)
		}
		if got := string(AppendAcceptKey([]byte("x"), []byte(tt.key))); got != "x"+tt.want {
			t.Errorf("AppendAcceptKey(%q) = %q, want %q", tt.key, got, "x"+tt.want)
		}
	}
	long := make([]byte, 100)
	for i := range long {
		long[i] = 'a'
	}
	if AcceptKey(string(long)) != string(AppendAcceptKey(nil, long)) {
		t.Error("AcceptKey and AppendAcceptKey disagree on a long key")
	}
}

func TestAppendAcceptKeyAllocs(t *testing.T) {
	dst := make([]byte, 0, 64)
	key := []byte("dGhlIHNhbXBsZSBub25jZQ==")
	if n := testing.AllocsPerRun(100, func() { dst = AppendAcceptKey(dst[:0], key) }); n != 0 {
		t.Errorf("AppendAcceptKey allocates %v times, want 0", n)
	}
}

func TestClientKey(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		k := NewClientKey()
		if !ValidClientKey(k) {
			t.Fatalf("NewClientKey() = %q, not valid", k)
		}
		if b, err := base64.StdEncoding.DecodeString(k); err != nil || len(b) != 16 {
			t.Fatalf("NewClientKey() = %q decodes to %d bytes, %v", k, len(b), err)
		}
		if seen[k] {
			t.Fatalf("NewClientKey() repeated %q", k)
		}
		seen[k] = true
	}
}

func TestValidClientKey(t *testing.T) {
	tests := []struct {
		key  string
		want bool
	}{
		{"dGhlIHNhbXBsZSBub25jZQ==", true},
		{"AAAAAAAAAAAAAAAAAAAAAA==", true},
		{"/////////////////////w==", true},
		{"", false},
		{"dGhlIHNhbXBsZSBub25jZQ=", false},   // 23 chars
		{"dGhlIHNhbXBsZSBub25jZQ", false},    // unpadded
		{"dGhlIHNhbXBsZSBub25jZQ===", false}, // 25 chars
		{"dGhlIHNhbXBsZSBub25jZ===", false},  // 15 bytes
		{"dGhlIHNhbXBsZSBub25jZQQQ", false},  // 18 bytes
		{"dGhlIHNhbXBsZSBub25jZ!==", false},  // not base64
		{" dGhlIHNhbXBsZSBub25jZQ==", false},
		{"dGhlIHNhbXBsZSBub25jZQ-_", false},
	}
	for _, tt := range tests {
		if got := ValidClientKey(tt.key); got != tt.want {
			t.Errorf("ValidClientKey(%q) = %v, want %v", tt.key, got, tt.want)
		}
	}
}
