package authserver

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

// FuzzCheckRedirectURI: whatever is accepted is an absolute https URL, or
// http on loopback, without fragment or user info.
func FuzzCheckRedirectURI(f *testing.F) {
	for _, s := range []string{"https://app.example/cb", "http://127.0.0.1:9/cb", "http://localhost/cb", "http://[::1]/cb",
		"javascript:alert(1)", "https://a@b/c", "https://app.example/cb#x", "http://evil.example/cb", "HTTPS://APP.EXAMPLE/",
		"http://127.0.0.1.evil.example/", "http://localhost.evil.example/", "//evil.example/cb", "https:///cb", "http://0x7f.1/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if checkRedirectURI(s) != nil {
			return
		}
		u, err := url.Parse(s)
		if err != nil || u.Host == "" || u.Fragment != "" || u.User != nil || strings.Contains(s, "#") {
			t.Fatalf("accepted %q", s)
		}
		if u.Scheme != "https" && !(u.Scheme == "http" && isLoopbackHost(u.Hostname())) {
			t.Fatalf("accepted %q with scheme %q host %q", s, u.Scheme, u.Hostname())
		}
	})
}

// FuzzGrantScopes: granted scopes are always supported ones, never empty.
func FuzzGrantScopes(f *testing.F) {
	s := &Server{o: Options{Scopes: []string{"mcp", "tools"}}}
	for _, in := range []string{"", "mcp", "tools mcp admin", "  mcp\tmcp  ", "admin"} {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := s.grantScopes(in)
		if len(got) == 0 {
			t.Fatalf("no scopes for %q", in)
		}
		for _, sc := range got {
			if !slices.Contains(s.o.Scopes, sc) {
				t.Fatalf("granted unsupported %q for %q", sc, in)
			}
		}
	})
}

// FuzzVerifyPKCE: only the verifier of a challenge matches it.
func FuzzVerifyPKCE(f *testing.F) {
	f.Add("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
	f.Fuzz(func(t *testing.T, verifier, challenge string) {
		if verifyPKCE(verifier, challenge) && !verifyPKCE(verifier, challenge+"") {
			t.Fatal("unstable")
		}
		if verifyPKCE(verifier, challenge) && (len(verifier) < 43 || len(verifier) > 128) {
			t.Fatalf("accepted verifier of length %d", len(verifier))
		}
	})
}

// TestVerifyPKCERFCVector: RFC 7636 Appendix B.
func TestVerifyPKCERFCVector(t *testing.T) {
	if !verifyPKCE("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM") {
		t.Error("the RFC 7636 example does not verify")
	}
	if verifyPKCE("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM") {
		t.Error("a changed verifier verifies")
	}
}
