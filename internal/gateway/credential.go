package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/secret"
)

// errNoUserCredential: a per_user credential upstream has no secret for
// the calling user.
var errNoUserCredential = errors.New("no credential configured for this user")

// errNoPassthroughCredential: a passthrough upstream was reached by a
// request that carries no credential for it.
var errNoPassthroughCredential = errors.New("the request carries no credential for it")

// credentialFor is the credential the configuration gives the user of ctx
// for upstream u (issue 5 item 4): nothing (ok false) for type none, the
// static secret, the user's own secret (per_user, keyed by the principal's
// subject), or the credential the client sent for this upstream
// (passthrough; never another upstream's, and never the client's gateway
// token). It is the one switch over credential types: stdio upstreams
// put the result in an environment variable (userEnv), remote ones in a
// request header (credentialHeader).
func credentialFor(ctx context.Context, u config.Upstream) (s secret.String, ok bool, err error) {
	cr := u.Credential
	switch cr.Type {
	case config.CredentialStatic:
		return cr.Secret, true, nil
	case config.CredentialPerUser:
		p := principal.FromContext(ctx)
		s, found := cr.UserSecrets[p.Subject]
		if !found || s.IsZero() {
			return secret.String{}, false, fmt.Errorf("upstream %q for user %q: %w", u.Name, p.Name, errNoUserCredential)
		}
		return s, true, nil
	case config.CredentialPassthrough:
		c, found := principal.CredentialFromContext(ctx)
		if !found || c.Upstream != u.Name || c.Value.IsZero() {
			return secret.String{}, false, fmt.Errorf("upstream %q: %w", u.Name, errNoPassthroughCredential)
		}
		return c.Value, true, nil
	case config.CredentialOAuth:
		return oauthUpstreamCredential(ctx, u) // oauth_upstream.go: the user's own IdP token
	}
	return secret.String{}, false, nil
}

// setCredentialHeader puts the credential of u for the user of ctx, if
// any, in header u.Credential.Header: as "Bearer <credential>" in
// Authorization (the default), as it is in any other header.
func setCredentialHeader(ctx context.Context, u config.Upstream, header http.Header) error {
	s, ok, err := credentialFor(ctx, u)
	if err != nil || !ok {
		return err
	}
	name := u.Credential.Header
	if name == "" {
		name = "Authorization"
	}
	if http.CanonicalHeaderKey(name) == "Authorization" {
		header.Set(name, "Bearer "+s.Reveal())
	} else {
		header.Set(name, s.Reveal())
	}
	return nil
}
