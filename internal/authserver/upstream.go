package authserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/mcpgate/mcpgate/internal/secret"
)

// ErrUpstreamExpired: the grant's upstream access token expired and there
// is no refresh token to renew it; the user must sign in again.
var ErrUpstreamExpired = errors.New("upstream token expired")

// UpstreamLeeway: upstream tokens are renewed this long before they
// expire (a connection built with one is replaced within it).
const UpstreamLeeway = 30 * time.Second

// UpstreamToken returns the upstream provider's access token of a grant,
// for an upstream that needs the user's own token. An expired one is
// refreshed with the upstream refresh token and sealed again. The value
// is for the upstream layer only: it never goes to a client ([A §Token
// Passthrough]), and a client's token never goes upstream.
func (s *Server) UpstreamToken(ctx context.Context, grantID string) (secret.String, error) {
	tok, _, err := s.UpstreamAccessToken(ctx, grantID)
	return tok, err
}

// UpstreamAccessToken is UpstreamToken with the token's expiry (zero when
// the provider gave none).
func (s *Server) UpstreamAccessToken(ctx context.Context, grantID string) (secret.String, time.Time, error) {
	s.refreshMu.Lock() // one refresh at a time, so a rotated refresh token is not used twice
	defer s.refreshMu.Unlock()
	g, ut, err := s.upstreamTokens(ctx, grantID)
	if err != nil {
		return secret.String{}, time.Time{}, err
	}
	now := s.o.Now()
	if ut.Expiry == 0 || now.Add(UpstreamLeeway).Before(time.Unix(ut.Expiry, 0)) {
		return secret.New(ut.AccessToken), expiryOf(ut), nil
	}
	if ut.RefreshToken == "" {
		return secret.String{}, time.Time{}, ErrUpstreamExpired
	}
	p, err := s.upstream(ctx)
	if err != nil {
		return secret.String{}, time.Time{}, err
	}
	old := &oauth2.Token{RefreshToken: ut.RefreshToken, Expiry: now.Add(-time.Hour)}
	t, err := s.oauth2Config(p).TokenSource(oidc.ClientContext(ctx, s.o.HTTPClient), old).Token()
	if err != nil {
		return secret.String{}, time.Time{}, fmt.Errorf("refreshing upstream token: %w", err)
	}
	ut.AccessToken = t.AccessToken
	if t.RefreshToken != "" {
		ut.RefreshToken = t.RefreshToken // providers that rotate
	}
	ut.Expiry = 0
	if !t.Expiry.IsZero() {
		ut.Expiry = t.Expiry.Unix()
	}
	raw, _ := json.Marshal(ut)
	g.Upstream = s.seal.seal(raw, g.ID)
	if err := s.store.PutGrant(ctx, g); err != nil {
		return secret.String{}, time.Time{}, fmt.Errorf("storing refreshed upstream token: %w", err)
	}
	return secret.New(ut.AccessToken), expiryOf(ut), nil
}

func expiryOf(ut upstreamTokens) time.Time {
	if ut.Expiry == 0 {
		return time.Time{}
	}
	return time.Unix(ut.Expiry, 0)
}

// UpstreamTokenExpiry returns when the grant's current upstream access
// token expires (zero if unknown), without refreshing it.
func (s *Server) UpstreamTokenExpiry(ctx context.Context, grantID string) (time.Time, error) {
	_, ut, err := s.upstreamTokens(ctx, grantID)
	if err != nil {
		return time.Time{}, err
	}
	return expiryOf(ut), nil
}

// upstreamTokens reads a grant and opens its upstream tokens.
func (s *Server) upstreamTokens(ctx context.Context, grantID string) (Grant, upstreamTokens, error) {
	g, err := s.store.Grant(ctx, grantID)
	if err != nil {
		return Grant{}, upstreamTokens{}, fmt.Errorf("reading grant: %w", err)
	}
	raw, err := s.seal.open(g.Upstream, g.ID)
	if err != nil {
		return Grant{}, upstreamTokens{}, err
	}
	var ut upstreamTokens
	if err := json.Unmarshal(raw, &ut); err != nil {
		return Grant{}, upstreamTokens{}, fmt.Errorf("decoding upstream tokens: %w", err)
	}
	return g, ut, nil
}
