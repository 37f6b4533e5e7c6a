package bearer

import (
	"context"
	"errors"
	"net/http"

	"github.com/mcpgate/mcpgate/internal/principal"
)

// AccessTokenVerifier checks access tokens issued by an OAuth
// authorization server (package authserver). VerifyAccessToken returns the
// token's principal, or ErrInvalidCredential for a token that is unknown,
// expired, revoked or issued for another resource than resource; other
// errors are server failures.
type AccessTokenVerifier interface {
	VerifyAccessToken(ctx context.Context, token, resource string) (principal.Principal, error)
}

// OAuthOptions configures NewOAuth.
type OAuthOptions struct {
	// Verifier checks tokens. Required.
	Verifier AccessTokenVerifier
	// Resource is this resource server's canonical URI; only tokens bound
	// to it are accepted (RFC 8707 §2; [A §Token Handling]: a token for
	// another audience is refused). Required.
	Resource string
}

// OAuth is the Authenticator of an OAuth resource server: the bearer
// token must be an access token of the gateway's authorization server,
// issued for this resource. Tokens are read from the Authorization header
// only ([A §Token Requirements]).
type OAuth struct {
	v        AccessTokenVerifier
	resource string
}

// NewOAuth returns an OAuth authenticator.
func NewOAuth(opts OAuthOptions) (*OAuth, error) {
	if opts.Verifier == nil || opts.Resource == "" {
		return nil, errors.New("oauth authenticator: verifier and resource are required")
	}
	return &OAuth{v: opts.Verifier, resource: opts.Resource}, nil
}

// Authenticate implements Authenticator.
func (o *OAuth) Authenticate(r *http.Request) (principal.Principal, error) {
	tok, err := bearerToken(r)
	if err != nil {
		return principal.Principal{}, err
	}
	return o.v.VerifyAccessToken(r.Context(), tok, o.resource)
}

// Hint implements Hinter.
func (o *OAuth) Hint() string {
	return "Obtain an access token from the authorization server named in the protected resource metadata " +
		"(resource_metadata in the WWW-Authenticate header) and send it as Authorization: Bearer <token>."
}
