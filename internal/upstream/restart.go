package upstream

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Backoff is the wait before restart attempt n (n ≥ 1) of a supervised
// upstream: base = lo·2^(n-1) capped at hi, then a uniformly random point in
// [base/2, base] (jitter(k) must be uniform in [0, k)), but never below lo.
// The jitter spreads out upstreams that fail together. Every transport's
// supervisor uses it, so they all back off alike.
func Backoff(n int, lo, hi time.Duration, jitter func(int64) int64) time.Duration {
	base := lo
	for i := 1; i < n && base < hi; i++ {
		base *= 2
	}
	base = min(base, hi)
	half := base / 2
	d := half
	if span := int64(base - half); span > 0 {
		d += time.Duration(jitter(span + 1))
	}
	return max(d, lo)
}

// MaxErrorText bounds the length of error texts shown in Status.
const MaxErrorText = 300

// ErrorText makes an error text safe to show as Status.LastError on
// /health and in logs: valid UTF-8, no control characters, bounded length.
func ErrorText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) > MaxErrorText {
		cut := MaxErrorText
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
