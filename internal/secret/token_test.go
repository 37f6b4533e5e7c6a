package secret

import (
	"fmt"
	"strings"
	"testing"
)

func TestTokens(t *testing.T) {
	tok := NewToken()
	if !strings.HasPrefix(tok, TokenPrefix) || len(tok) != len(TokenPrefix)+43 || NewToken() == tok {
		t.Errorf("NewToken: %q", tok)
	}
	h, err := HashToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	d, err := ParseDigest(h)
	if err != nil {
		t.Fatal(err)
	}
	if d2, err := ParseDigest(strings.ToUpper(h[:7]) + strings.ToUpper(h[7:])); err == nil || d2 == d {
		// "SHA256:" is not the prefix
		t.Errorf("upper-case prefix accepted")
	}
	if d2, err := ParseDigest(DigestPrefix + strings.ToUpper(h[7:])); err != nil || d2 != d {
		t.Errorf("upper-case hex: %v", err)
	}
	const short = "short-secret-value"
	for _, bad := range []string{short, strings.Repeat("a", 30) + " b", strings.Repeat("é", 20)} {
		_, err := HashToken(bad)
		if err == nil || strings.Contains(err.Error(), bad) {
			t.Errorf("HashToken(%q): %v", bad, err)
		}
	}
	for _, bad := range []string{"", "sha256:", "sha256:" + strings.Repeat("g", 64), "md5:" + strings.Repeat("0", 64), h + "00", "secret-value"} {
		_, err := ParseDigest(bad)
		if err == nil || bad != "" && len(bad) > 8 && strings.Contains(err.Error(), bad) {
			t.Errorf("ParseDigest(%q): %v", bad, err)
		}
	}
}

func TestDigestNeverShowsValue(t *testing.T) {
	d := DigestOf("mcpgate_some-token-0123456789abcdef")
	txt, _ := d.MarshalText()
	for _, out := range []string{fmt.Sprint(d), fmt.Sprintf("%x", d), fmt.Sprintf("%#v", d), string(txt)} {
		if out != DigestPrefix+Redacted {
			t.Errorf("digest shows as %q", out)
		}
	}
	if d.IsZero() || !(Digest{}).IsZero() {
		t.Error("IsZero is wrong")
	}
}
