package mcp

import "testing"

func TestDecodeHeaderValue(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"plain", "plain", true},
		{"=?base64?SGVsbG8=?=", "Hello", true},
		{"=?base64?SGVsbG8?=", "", false},     // missing padding
		{"=?base64?SGVs!!!bG8=?=", "", false}, // not the alphabet
		{"SGVsbG8=", "SGVsbG8=", true},        // no markers: literal
		{"=?base64?SGVsbG8=", "=?base64?SGVsbG8=", true},
		{"=?base64?5pel5pys6Kqe?=", "日本語", true},
		{"", "", true},
	}
	for _, tt := range tests {
		got, ok := DecodeHeaderValue(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("DecodeHeaderValue(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestIsModern(t *testing.T) {
	if !IsModern(Version20260728) || IsModern(Version20251125) || IsModern("v999.0.0") {
		t.Fatal("IsModern disagrees with ModernVersions")
	}
	if Supported(Version20260728) {
		t.Fatal("Supported must stay session-era only")
	}
}
