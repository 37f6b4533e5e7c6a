package authserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/secret"
)

// The upstream layer finds the user's upstream identity provider token
// through the request's context: Server.UpstreamContext (middleware on
// the MCP endpoints, after authentication) puts the server there, and
// UpstreamTokenFromContext asks it for the token of the grant of the
// request's principal. The context stays a request-scoped value, so the
// credential switch of the gateway (a plain function of ctx and the
// upstream) needs no handle on the server.

type upstreamCtxKey struct{}

// ErrNoGrant: the request's principal has no OAuth grant (auth mode is not
// oauth, or the context did not pass through UpstreamContext).
var ErrNoGrant = errors.New("the request carries no OAuth grant")

// UpstreamContext is middleware that lets the handlers after it reach the
// user's upstream token (UpstreamTokenFromContext). It adds one context
// value per request; install it only when an upstream needs the token.
func (s *Server) UpstreamContext(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), upstreamCtxKey{}, s)))
	})
}

// UpstreamTokenFromContext returns the upstream identity provider's
// access token of the grant of ctx's principal, refreshed when near
// expiry (Server.UpstreamAccessToken), and its expiry (zero if unknown).
// It is the user's own token at the provider, never the client's gateway
// token.
func UpstreamTokenFromContext(ctx context.Context) (secret.String, time.Time, error) {
	s, _ := ctx.Value(upstreamCtxKey{}).(*Server)
	p := principal.FromContext(ctx)
	if s == nil || p.GrantID == "" {
		return secret.String{}, time.Time{}, ErrNoGrant
	}
	tok, exp, err := s.UpstreamAccessToken(ctx, p.GrantID)
	if err != nil {
		return secret.String{}, time.Time{}, fmt.Errorf("getting the user's upstream token: %w", err)
	}
	return tok, exp, nil
}

// UpstreamExpiryFromContext returns when the current upstream access
// token of the grant of ctx's principal expires (zero if unknown),
// without refreshing it.
func UpstreamExpiryFromContext(ctx context.Context) (time.Time, error) {
	s, _ := ctx.Value(upstreamCtxKey{}).(*Server)
	p := principal.FromContext(ctx)
	if s == nil || p.GrantID == "" {
		return time.Time{}, ErrNoGrant
	}
	return s.UpstreamTokenExpiry(ctx, p.GrantID)
}
