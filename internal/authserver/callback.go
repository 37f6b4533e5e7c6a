package authserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/mcpgate/mcpgate/internal/principal"
)

// upstreamTokens is the sealed form of the upstream provider's tokens.
type upstreamTokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	Expiry       int64  `json:"expiry,omitempty"`
}

// idClaims are the ID token claims mcpgate reads.
type idClaims struct {
	Email  string   `json:"email"`
	Groups []string `json:"groups"`
}

// serveCallback finishes the upstream login: it checks the state it sent
// (single-use, bound to this browser), exchanges the code with its PKCE
// verifier, validates the ID token (issuer, audience, expiry and signature
// by go-oidc against the provider's JWKS; the nonce here), records the
// grant and sends the browser back to the client with a code and iss
// (RFC 9207 §2).
func (s *Server) serveCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	a, err := s.store.TakeAuthorization(ctx, hashKey(q.Get("state")))
	if err != nil || q.Get("state") == "" || s.o.Now().After(a.ExpiresAt) || a.UpstreamVerifier == "" {
		s.errorPage(w, http.StatusBadRequest, "This sign-in is unknown, used or expired; start again from the application.")
		return
	}
	ck, _ := r.Cookie(s.cookie(browserCookie))
	if ck == nil || !equalHash(a.BrowserHash, hashKey(ck.Value)) {
		s.errorPage(w, http.StatusForbidden, "This sign-in was started in another browser.")
		return
	}
	if e := q.Get("error"); e != "" {
		code, desc := "server_error", "the identity provider failed"
		switch e {
		case "access_denied", "login_required", "consent_required", "interaction_required":
			code, desc = "access_denied", "the user or the identity provider refused the sign-in"
		case "temporarily_unavailable":
			code, desc = e, "the identity provider is temporarily unavailable"
		}
		s.log.InfoContext(ctx, "upstream refused", "error", e, "client_id", a.ClientID)
		s.redirectError(w, r, a.RedirectURI, a.State, code, desc)
		return
	}
	id, tok, err := s.exchange(ctx, q.Get("code"), a)
	if err != nil {
		s.log.WarnContext(ctx, "upstream sign-in failed", "err", err, "client_id", a.ClientID)
		s.redirectError(w, r, a.RedirectURI, a.State, "server_error", "the sign-in at the identity provider could not be verified")
		return
	}
	if a.RememberedUser != "" && a.RememberedUser != id.Issuer+"\x00"+id.Subject {
		// The consent page was skipped for the user who approved before in
		// this browser, but someone else signed in: that user never
		// approved this client. Forget the browser's user; the next
		// attempt shows the consent page.
		s.log.InfoContext(ctx, "remembered consent of another user refused", "client_id", a.ClientID, "sub", id.Subject)
		s.forgetUser(w)
		s.errorPage(w, http.StatusForbidden, "You signed in as another user than the one who approved this application in this browser. Start again from the application to see its consent page.")
		return
	}
	now := s.o.Now()
	g := Grant{ID: randomValue(), ClientID: a.ClientID, Identity: id, Resource: a.Resource, Scopes: a.Scopes,
		CreatedAt: now, ExpiresAt: now.Add(s.o.RefreshTTL)}
	raw, _ := json.Marshal(tok)
	g.Upstream = s.seal.seal(raw, g.ID)
	code := randomValue()
	c := Code{ClientID: a.ClientID, RedirectURI: a.RedirectURI, CodeChallenge: a.CodeChallenge, Resource: a.Resource,
		Scopes: a.Scopes, GrantID: g.ID, ExpiresAt: now.Add(s.o.CodeTTL)}
	if err := s.store.PutGrant(ctx, g); err != nil {
		s.log.ErrorContext(ctx, "storing grant", "err", err)
		s.redirectError(w, r, a.RedirectURI, a.State, "server_error", "")
		return
	}
	if err := s.store.PutCode(ctx, hashKey(code), c); err != nil {
		s.log.ErrorContext(ctx, "storing code", "err", err)
		s.redirectError(w, r, a.RedirectURI, a.State, "server_error", "")
		return
	}
	if a.RememberedUser == "" {
		s.rememberConsent(ctx, w, id, a)
	}
	s.log.InfoContext(ctx, "authorization granted", "client_id", a.ClientID, "sub", id.Subject, "role", id.Role)
	v := url.Values{"code": {code}, "iss": {s.o.Issuer}}
	if a.State != "" {
		v.Set("state", a.State)
	}
	http.Redirect(w, r, withQuery(a.RedirectURI, v), http.StatusFound)
}

// exchange redeems the upstream code and validates the ID token.
func (s *Server) exchange(ctx context.Context, code string, a Authorization) (Identity, upstreamTokens, error) {
	if code == "" {
		return Identity{}, upstreamTokens{}, errors.New("the callback carries no code")
	}
	p, err := s.upstream(ctx)
	if err != nil {
		return Identity{}, upstreamTokens{}, err
	}
	ctx = oidc.ClientContext(ctx, s.o.HTTPClient)
	t, err := s.oauth2Config(p).Exchange(ctx, code, oauth2.VerifierOption(a.UpstreamVerifier))
	if err != nil {
		return Identity{}, upstreamTokens{}, fmt.Errorf("exchanging upstream code: %w", err)
	}
	rawID, _ := t.Extra("id_token").(string)
	if rawID == "" {
		return Identity{}, upstreamTokens{}, errors.New("the upstream token response has no id_token")
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: s.o.Upstream.ClientID, Now: s.o.Now}).Verify(ctx, rawID)
	if err != nil {
		return Identity{}, upstreamTokens{}, fmt.Errorf("verifying ID token: %w", err)
	}
	// OIDC Core §3.1.3.7 (11): the nonce must be the one sent.
	if !equalHash(hashKey(idt.Nonce), hashKey(a.UpstreamNonce)) {
		return Identity{}, upstreamTokens{}, errors.New("verifying ID token: nonce mismatch")
	}
	var cl idClaims
	if err := idt.Claims(&cl); err != nil {
		return Identity{}, upstreamTokens{}, fmt.Errorf("reading ID token claims: %w", err)
	}
	if cl.Email == "" && len(cl.Groups) == 0 {
		// Providers may keep these in userinfo only (OIDC Core §5.4).
		if ui, err := p.UserInfo(ctx, oauth2.StaticTokenSource(t)); err == nil && ui.Subject == idt.Subject {
			ui.Claims(&cl)
		}
	}
	id := Identity{Issuer: idt.Issuer, Subject: idt.Subject, Email: cl.Email, Groups: cl.Groups, Role: s.role(cl.Groups)}
	ut := upstreamTokens{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, IDToken: rawID}
	if !t.Expiry.IsZero() {
		ut.Expiry = t.Expiry.Unix()
	}
	return id, ut, nil
}

// role maps groups to the most privileged configured role.
func (s *Server) role(groups []string) string {
	rank := map[string]int{principal.RoleReadOnly: 1, principal.RoleUser: 2, principal.RoleAdmin: 3}
	best := ""
	for _, g := range groups {
		if r, ok := s.o.Roles[g]; ok && rank[r] > rank[best] {
			best = r
		}
	}
	if best == "" {
		return s.o.DefaultRole
	}
	return best
}
