package gateway

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/mcpgate/mcpgate/internal/authserver"
	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/secret"
	"github.com/mcpgate/mcpgate/internal/upstream"
	"github.com/mcpgate/mcpgate/internal/upstream/peruser"
)

// oauthUpstreamCredential is credential type oauth (credentialFor): the
// calling user's own access token at auth.oauth's upstream identity
// provider, refreshed by the authorization server when near expiry. It
// comes from the request's OAuth grant (principal.GrantID), never from
// what the client sent: the client's gateway token never goes upstream.
func oauthUpstreamCredential(ctx context.Context, u config.Upstream) (secret.String, bool, error) {
	s, _, err := authserver.UpstreamTokenFromContext(ctx)
	if err != nil {
		return secret.String{}, false, fmt.Errorf("upstream %q: %w", u.Name, err)
	}
	return s, true, nil
}

// needsUpstreamTokens reports whether an enabled upstream has credential
// type oauth, so the MCP chain must carry the authorization server in
// each request's context.
func (g *Gateway) needsUpstreamTokens() bool {
	return g.oauth != nil && slices.ContainsFunc(g.cfg.Upstreams, func(u config.Upstream) bool {
		return u.Credential.Type == config.CredentialOAuth
	})
}

// expiringConn is a per-user connection built with the user's upstream
// IdP token (credential type oauth), which expires at expires: a stdio
// process holds it in its environment, a remote connection in its
// headers, for their whole life.
type expiringConn struct {
	*limitedConn
	expires time.Time
}

// withTokenExpiry records, for an upstream with credential type oauth,
// when the token the connection was built with expires, so that
// retireExpired can replace it.
func withTokenExpiry(ctx context.Context, u config.Upstream, c *limitedConn) peruser.Conn {
	if u.Credential.Type != config.CredentialOAuth {
		return c
	}
	// The factory just read (and, if need be, refreshed) the token.
	exp, err := authserver.UpstreamExpiryFromContext(ctx)
	if err != nil || exp.IsZero() {
		return c // no expiry known: the connection lives as any other
	}
	return &expiringConn{limitedConn: c, expires: exp}
}

// retireExpired takes a user's connection out of the pool when the token
// it was built with is about to expire (within authserver.UpstreamLeeway,
// the margin in which the authorization server refreshes it): the caller
// acquires again, and the factory builds a new process or connection with
// the refreshed token. Calls in flight on the old one finish; the pool
// stops it once idle.
func retireExpired(pool *peruser.Pool, userKey string, c upstream.Conn) bool {
	ec, ok := c.(*expiringConn)
	if !ok || time.Now().Add(authserver.UpstreamLeeway).Before(ec.expires) {
		return false
	}
	return pool.Retire(userKey, ec)
}
