package bearer

import (
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/mcpgate/mcpgate/internal/secret"
)

// FuzzAuthorization: any Authorization header value is answered with a
// principal only for the exact configured token, and otherwise with one of
// the three credential errors; never a panic.
func FuzzAuthorization(f *testing.F) {
	const tok = "mcpgate_fuzz-0123456789abcdefghijklmnop"
	for _, s := range []string{"Bearer " + tok, "bearer " + tok, "Bearer  " + tok, "Bearer", "Bearer ", "Basic x", "",
		"Bearer " + tok + " ", "Bearer\t" + tok, "Bearer " + tok[:10], "\x00", "Bearer \xff"} {
		f.Add(s)
	}
	st, err := NewStatic([]Token{{User: "u", Digest: secret.DigestOf(tok)}})
	if err != nil {
		f.Fatal(err)
	}
	pt, _ := NewPassthrough(PassthroughOptions{Upstream: "x"})
	f.Fuzz(func(t *testing.T, v string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Authorization"] = []string{v}
		p, err := st.Authenticate(r)
		if err == nil {
			if got, _ := bearerToken(r); got != tok || p.Subject != "u" {
				t.Fatalf("%q accepted as %+v", v, p)
			}
		} else if !errors.Is(err, ErrNoCredential) && !errors.Is(err, ErrInvalidCredential) && !errors.Is(err, ErrMalformed) {
			t.Fatalf("%q: unexpected error %v", v, err)
		}
		if p, err := pt.Authenticate(r); err == nil && (p.Subject == "" || len(p.Name) != len("passthrough:")+8) {
			t.Fatalf("%q: passthrough principal %+v", v, p)
		}
	})
}
