package upstream

import (
	"strings"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	lo, hi := 250*time.Millisecond, 30*time.Second
	least := func(n int64) int64 { return 0 }
	most := func(n int64) int64 { return n - 1 }
	tests := []struct {
		name   string
		n      int
		jitter func(int64) int64
		want   time.Duration
	}{
		{"first, least jitter, floored at min", 1, least, lo},
		{"first, most jitter", 1, most, lo},
		{"second, least", 2, least, 250 * time.Millisecond},
		{"second, most", 2, most, 500 * time.Millisecond},
		{"fifth, least", 5, least, 2 * time.Second},
		{"fifth, most", 5, most, 4 * time.Second},
		{"capped, least", 20, least, 15 * time.Second},
		{"capped, most", 20, most, hi},
		{"huge n does not overflow", 1 << 20, most, hi},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Backoff(tt.n, lo, hi, tt.jitter); got != tt.want {
				t.Errorf("Backoff(%d) = %v, want %v", tt.n, got, tt.want)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	long := strings.Repeat("é", MaxErrorText)
	tests := []struct{ in, want string }{
		{"exit status 1", "exit status 1"},
		{"bad\nline\x00\x1b[31m", "bad line  [31m"},
		{"\xff", "\uFFFD"},
		{long, long[:MaxErrorText] + "…"},
	}
	for _, tt := range tests {
		if got := ErrorText(tt.in); got != tt.want {
			t.Errorf("ErrorText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
