package eventlog

import (
	"strings"
	"testing"
)

func TestParseEventID(t *testing.T) {
	tests := []struct {
		in     string
		stream string
		seq    uint64
		ok     bool
	}{
		{"abc.1", "abc", 1, true},
		{"0.0", "0", 0, true},
		{"a_B-9.18446744073709551615", "a_B-9", 18446744073709551615, true},
		{"a.b.3", "", 0, false}, // dots are not stream ID characters
		{"abc.18446744073709551616", "", 0, false},
		{"abc.01", "", 0, false},
		{"abc.+1", "", 0, false},
		{"abc.-1", "", 0, false},
		{"abc. 1", "", 0, false},
		{"abc.1 ", "", 0, false},
		{" abc.1", "", 0, false},
		{"abc.", "", 0, false},
		{".1", "", 0, false},
		{"abc", "", 0, false},
		{"", "", 0, false},
		{"ab\x00.1", "", 0, false},
		{"ab\n.1", "", 0, false},
		{"ab%2e.1", "", 0, false},
		{"ab:c.1", "", 0, false},
		{"äb.1", "", 0, false},
		{"abc.1\u0661", "", 0, false}, // Arabic-Indic digit
		{strings.Repeat("a", MaxStreamIDLen) + ".1", strings.Repeat("a", MaxStreamIDLen), 1, true},
		{strings.Repeat("a", MaxStreamIDLen+1) + ".1", "", 0, false},
		{strings.Repeat("9", 4096), "", 0, false},
	}
	for _, tt := range tests {
		stream, seq, err := ParseEventID(tt.in)
		if (err == nil) != tt.ok || stream != tt.stream || seq != tt.seq {
			t.Errorf("ParseEventID(%q) = %q, %d, %v; want %q, %d, ok=%v", tt.in, stream, seq, err, tt.stream, tt.seq, tt.ok)
		}
	}
}

func TestNewStreamID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewStreamID()
		if !ValidStreamID(id) {
			t.Fatalf("NewStreamID() = %q, not a valid stream ID", id)
		}
		if seen[id] {
			t.Fatalf("NewStreamID() repeated %q", id)
		}
		seen[id] = true
	}
}

// FuzzParseEventID checks that the parser never panics, accepts only what
// FormatEventID produces, and round-trips.
func FuzzParseEventID(f *testing.F) {
	for _, s := range []string{"abc.1", "0.0", "a.01", "x.18446744073709551616", "..", "a.b.c", "\xff.1", "Zz_-.42"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		stream, seq, err := ParseEventID(in)
		if err != nil {
			return
		}
		if !ValidStreamID(stream) {
			t.Fatalf("ParseEventID(%q) gave invalid stream %q", in, stream)
		}
		if got := FormatEventID(stream, seq); got != in {
			t.Fatalf("FormatEventID(ParseEventID(%q)) = %q", in, got)
		}
		for i := 0; i < len(in); i++ {
			if in[i] < 0x21 || in[i] > 0x7e {
				t.Fatalf("ParseEventID accepted byte %#x in %q", in[i], in)
			}
		}
	})
}
