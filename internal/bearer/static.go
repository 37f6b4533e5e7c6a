package bearer

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"

	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/secret"
)

// IssuerStatic is the Issuer of principals authenticated by Static.
const IssuerStatic = "static"

// Token is one configured static token: its digest and whom it stands for.
// Several tokens may name the same User (rotation: old and new token work
// side by side, and sessions survive the switch, since the principal is the
// same).
type Token struct {
	// User names the principal (its Subject and Name). Required.
	User string
	// Role is principal.RoleAdmin, RoleUser or RoleReadOnly; "" means
	// RoleUser.
	Role string
	// Digest is the SHA-256 of the token (see secret.HashToken and secret.ParseDigest).
	Digest secret.Digest
}

// Static authenticates Bearer tokens against a fixed set of digests.
type Static struct {
	tokens []Token
	// principals[i] is tokens[i]'s principal, made once (with its Key).
	principals []principal.Principal
}

// NewStatic returns a Static for tokens. It refuses an empty list, a token
// without a user, an unknown role, and a digest given twice.
func NewStatic(tokens []Token) (*Static, error) {
	if len(tokens) == 0 {
		return nil, errors.New("building static authenticator: no tokens")
	}
	seen := make(map[secret.Digest]int, len(tokens))
	out := make([]Token, len(tokens))
	for i, t := range tokens {
		if t.User == "" {
			return nil, fmt.Errorf("building static authenticator: token %d: no user", i)
		}
		if !principal.ValidRole(t.Role) {
			return nil, fmt.Errorf("building static authenticator: token %d: unknown role %q", i, t.Role)
		}
		if j, dup := seen[t.Digest]; dup {
			return nil, fmt.Errorf("building static authenticator: tokens %d and %d have the same digest", j, i)
		}
		seen[t.Digest] = i
		if t.Role == "" {
			t.Role = principal.RoleUser
		}
		out[i] = t
	}
	ps := make([]principal.Principal, len(out))
	for i, t := range out {
		ps[i] = principal.Principal{Issuer: IssuerStatic, Subject: t.User, Name: t.User, Role: t.Role}.WithKey()
	}
	return &Static{tokens: out, principals: ps}, nil
}

// Authenticate implements Authenticator. The presented token is hashed
// and compared with every configured digest in constant time
// (crypto/subtle), without stopping at a match, so the time taken says
// nothing about which digest, or how much of one, matched.
func (s *Static) Authenticate(r *http.Request) (principal.Principal, error) {
	tok, err := bearerToken(r)
	if err != nil {
		return principal.Principal{}, err
	}
	sum := secret.DigestOf(tok)
	match := -1
	for i := range s.tokens {
		eq := subtle.ConstantTimeCompare(sum[:], s.tokens[i].Digest[:])
		match = subtle.ConstantTimeSelect(eq, i, match)
	}
	if match < 0 {
		return principal.Principal{}, ErrInvalidCredential
	}
	return s.principals[match], nil
}

// Hint implements Hinter.
func (s *Static) Hint() string {
	return "Send your mcpgate token in the Authorization header: Authorization: Bearer <token>."
}
