package authserver

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/mcpgate/mcpgate/internal/bearer"
	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/secret"
)

// Token prefixes: they make a leaked token recognisable to secret scanners.
const (
	accessPrefix  = "mcpgate_at_"
	refreshPrefix = "mcpgate_rt_"
)

// pkceAlphabet is RFC 7636 §4.1's unreserved characters.
const pkceAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
}

// serveToken is the token endpoint (OAuth 2.1 §3.2). Every refusal is an
// RFC 6749 §5.2 error; only store failures are 5xx.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	s.maybeSweep(r.Context())
	form, e := readForm(w, r)
	if e != nil {
		writeError(w, e)
		return
	}
	c, e := s.authenticateClient(r, form)
	if e != nil {
		writeError(w, e)
		return
	}
	var resp tokenResponse
	switch form.Get("grant_type") {
	case "authorization_code":
		resp, e = s.redeemCode(r.Context(), c, form)
	case "refresh_token":
		resp, e = s.refresh(r.Context(), c, form)
	case "":
		e = invalidRequest("grant_type is required")
	default:
		e = oauthErr(http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
	}
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// redeemCode is the authorization_code grant (OAuth 2.1 §4.1.3).
func (s *Server) redeemCode(ctx context.Context, c Client, form url.Values) (tokenResponse, *Error) {
	code := form.Get("code")
	if code == "" {
		return tokenResponse{}, invalidRequest("code is required")
	}
	rec, err := s.store.SpendCode(ctx, hashKey(code))
	// OAuth 2.1 §4.1.3: a code used twice revokes what it issued.
	if e := s.spent(ctx, err, rec.ClientID, rec.GrantID, "the code"); e != nil {
		return tokenResponse{}, e
	}
	switch {
	case s.o.Now().After(rec.ExpiresAt):
		return tokenResponse{}, invalidGrant("the code expired")
	case rec.ClientID != c.ID:
		return tokenResponse{}, invalidGrant("the code was issued to another client")
	case form.Get("redirect_uri") != "" && form.Get("redirect_uri") != rec.RedirectURI:
		return tokenResponse{}, invalidGrant("redirect_uri does not match the authorization request")
	case !verifyPKCE(form.Get("code_verifier"), rec.CodeChallenge):
		// RFC 7636 §4.6.
		return tokenResponse{}, invalidGrant("code_verifier does not match the code challenge")
	}
	if e := checkResource(form, rec.Resource); e != nil {
		return tokenResponse{}, e
	}
	g, err := s.store.Grant(ctx, rec.GrantID)
	if err != nil {
		return tokenResponse{}, s.grantErr(ctx, err)
	}
	return s.issue(ctx, g, rec.Scopes)
}

// refresh is the refresh_token grant (OAuth 2.1 §4.3): the refresh token
// is rotated on every use; a spent one used again revokes the whole grant
// (§4.3.1, RFC 9700 §4.14.2).
func (s *Server) refresh(ctx context.Context, c Client, form url.Values) (tokenResponse, *Error) {
	rt := form.Get("refresh_token")
	if rt == "" {
		return tokenResponse{}, invalidRequest("refresh_token is required")
	}
	key := hashKey(rt)
	// Checked before spending, so that presenting another client's token
	// does not burn it.
	if t, err := s.store.Token(ctx, key); errors.Is(err, ErrNotFound) || err == nil && t.Kind != KindRefresh {
		return tokenResponse{}, invalidGrant("the refresh token is unknown")
	} else if err != nil {
		s.log.ErrorContext(ctx, "reading token", "err", err)
		return tokenResponse{}, errServer
	} else if t.ClientID != c.ID {
		return tokenResponse{}, invalidGrant("the refresh token was issued to another client")
	}
	t, err := s.store.SpendToken(ctx, key)
	if e := s.spent(ctx, err, t.ClientID, t.GrantID, "the refresh token"); e != nil {
		return tokenResponse{}, e
	}
	switch {
	case t.ClientID != c.ID:
		return tokenResponse{}, invalidGrant("the refresh token was issued to another client")
	case s.o.Now().After(t.ExpiresAt):
		return tokenResponse{}, invalidGrant("the refresh token expired")
	}
	if e := checkResource(form, t.Resource); e != nil {
		return tokenResponse{}, e
	}
	scopes := t.Scopes
	if sc := form.Get("scope"); sc != "" {
		// RFC 6749 §6: a narrower scope may be asked for, never a wider one.
		scopes = strings.Fields(sc)
		for _, x := range scopes {
			if !slices.Contains(t.Scopes, x) {
				return tokenResponse{}, oauthErr(http.StatusBadRequest, "invalid_scope", "the scope exceeds the grant")
			}
		}
	}
	g, err := s.store.Grant(ctx, t.GrantID)
	if err != nil {
		return tokenResponse{}, s.grantErr(ctx, err)
	}
	return s.issue(ctx, g, scopes)
}

func (s *Server) grantErr(ctx context.Context, err error) *Error {
	if errors.Is(err, ErrNotFound) {
		return invalidGrant("the grant was revoked")
	}
	s.log.ErrorContext(ctx, "reading grant", "err", err)
	return errServer
}

// issue stores and returns a new access and refresh token of g. Only
// their hashes are stored.
func (s *Server) issue(ctx context.Context, g Grant, scopes []string) (tokenResponse, *Error) {
	now := s.o.Now()
	if now.After(g.ExpiresAt) {
		return tokenResponse{}, invalidGrant("the grant expired")
	}
	at, rt := accessPrefix+randomValue(), refreshPrefix+randomValue()
	base := Token{GrantID: g.ID, ClientID: g.ClientID, Resource: g.Resource, Scopes: scopes}
	access, refresh := base, base
	access.Kind, access.ExpiresAt = KindAccess, now.Add(s.o.AccessTTL)
	refresh.Kind, refresh.ExpiresAt = KindRefresh, g.ExpiresAt
	if err := s.store.PutToken(ctx, hashKey(at), access); err != nil {
		s.log.ErrorContext(ctx, "storing token", "err", err)
		return tokenResponse{}, errServer
	}
	if err := s.store.PutToken(ctx, hashKey(rt), refresh); err != nil {
		s.log.ErrorContext(ctx, "storing token", "err", err)
		return tokenResponse{}, errServer
	}
	return tokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: int64(s.o.AccessTTL.Seconds()),
		RefreshToken: rt, Scope: strings.Join(scopes, " ")}, nil
}

// serveRevoke is token revocation (RFC 7009 §2). Revoking a refresh token
// revokes its grant and so every token of it; unknown tokens get 200 too
// (§2.2).
func (s *Server) serveRevoke(w http.ResponseWriter, r *http.Request) {
	form, e := readForm(w, r)
	if e != nil {
		writeError(w, e)
		return
	}
	c, e := s.authenticateClient(r, form)
	if e != nil {
		writeError(w, e)
		return
	}
	tok := form.Get("token")
	if tok == "" {
		writeError(w, invalidRequest("token is required"))
		return
	}
	ctx := r.Context()
	key := hashKey(tok)
	t, err := s.store.Token(ctx, key)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		s.log.ErrorContext(ctx, "reading token", "err", err)
		writeError(w, oauthErr(http.StatusServiceUnavailable, "temporarily_unavailable", "try again"))
		return
	case t.ClientID != c.ID:
		// §2.1: a client may revoke only its own tokens; say nothing more.
	case t.Kind == KindRefresh:
		// The whole grant goes, and the consent it was made under: a
		// client that signs out and in again shows the consent page.
		err = RevokeGrant(ctx, s.store, t.GrantID)
	default:
		err = s.store.DeleteToken(ctx, key)
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		s.log.ErrorContext(ctx, "revoking token", "err", err)
		writeError(w, oauthErr(http.StatusServiceUnavailable, "temporarily_unavailable", "try again"))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// VerifyAccessToken returns the principal of an access token issued for
// resource. An unknown, expired, revoked or other-audience token (RFC 8707
// §2; [A §Token Handling]) is bearer.ErrInvalidCredential; store failures
// are other errors.
func (s *Server) VerifyAccessToken(ctx context.Context, tok, resource string) (principal.Principal, error) {
	if !strings.HasPrefix(tok, accessPrefix) {
		return principal.Principal{}, bearer.ErrInvalidCredential
	}
	t, err := s.store.Token(ctx, hashKey(tok))
	if errors.Is(err, ErrNotFound) {
		return principal.Principal{}, bearer.ErrInvalidCredential
	} else if err != nil {
		return principal.Principal{}, fmt.Errorf("reading token: %w", err)
	}
	now := s.o.Now()
	if t.Kind != KindAccess || now.After(t.ExpiresAt) || t.Resource != resource {
		return principal.Principal{}, bearer.ErrInvalidCredential
	}
	g, err := s.store.Grant(ctx, t.GrantID)
	if errors.Is(err, ErrNotFound) {
		return principal.Principal{}, bearer.ErrInvalidCredential
	} else if err != nil {
		return principal.Principal{}, fmt.Errorf("reading grant: %w", err)
	}
	if now.After(g.ExpiresAt) {
		return principal.Principal{}, bearer.ErrInvalidCredential
	}
	name := g.Identity.Email
	if name == "" {
		name = g.Identity.Subject
	}
	return principal.Principal{Issuer: g.Identity.Issuer, Subject: g.Identity.Subject, Name: name,
		Role: g.Identity.Role, Scopes: slices.Clone(t.Scopes), ClientID: t.ClientID, GrantID: g.ID}.WithKey(), nil
}

// authenticateClient identifies the client of a token or revocation
// request (OAuth 2.1 §2.4): HTTP Basic or client_secret_post for
// confidential clients, client_id alone for public ones.
func (s *Server) authenticateClient(r *http.Request, form url.Values) (Client, *Error) {
	id, sec, basic := r.BasicAuth()
	if basic {
		if form.Get("client_secret") != "" {
			return Client{}, invalidRequest("use one client authentication method")
		}
		// RFC 6749 §2.3.1: form-urlencoded inside Basic.
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		sec, err2 = url.QueryUnescape(sec)
		if err1 != nil || err2 != nil {
			return Client{}, errInvalidClient
		}
		if f := form.Get("client_id"); f != "" && f != id {
			return Client{}, invalidRequest("client_id differs from the authenticated client")
		}
	} else {
		id, sec = form.Get("client_id"), form.Get("client_secret")
	}
	if id == "" {
		return Client{}, errInvalidClient
	}
	c, err := s.storedClient(r.Context(), id)
	if errors.Is(err, ErrNotFound) {
		return Client{}, errInvalidClient
	} else if err != nil {
		s.log.ErrorContext(r.Context(), "reading client", "err", err)
		return Client{}, errServer
	}
	if c.SecretHash == "" {
		return c, nil
	}
	want, err := secret.ParseDigest(c.SecretHash)
	if err != nil || sec == "" {
		return Client{}, errInvalidClient
	}
	got := secret.DigestOf(sec)
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return Client{}, errInvalidClient
	}
	return c, nil
}

// verifyPKCE checks a code verifier against an S256 challenge (RFC 7636
// §4.1, §4.6).
func verifyPKCE(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 || strings.Trim(verifier, pkceAlphabet) != "" {
		return false
	}
	d := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(d[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

// checkResource refuses a resource parameter naming another audience; a
// missing one means the default (RFC 8707 §2.2; [SPEC AS-4]: never 5xx).
func checkResource(form url.Values, want string) *Error {
	if len(form["resource"]) > 1 || form.Get("resource") != "" && form.Get("resource") != want {
		return oauthErr(http.StatusBadRequest, "invalid_target", "the resource differs from the authorized one")
	}
	return nil
}

// readForm parses a bounded form body, refusing repeated parameters
// (RFC 6749 §3.2) except resource.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, *Error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return nil, invalidRequest("the body must be a form (application/x-www-form-urlencoded) of at most 16 KiB")
	}
	for k, vs := range r.PostForm {
		if len(vs) > 1 && k != "resource" {
			return nil, invalidRequest("the parameter " + k + " is repeated")
		}
	}
	return r.PostForm, nil
}

// spent turns the outcome of spending a single-use credential (what: "the
// code", "the refresh token") into the client's error, or nil when it was
// fresh. A second use revokes the whole grant it belongs to.
func (s *Server) spent(ctx context.Context, err error, clientID, grantID, what string) *Error {
	switch {
	case errors.Is(err, ErrSpent):
		s.log.WarnContext(ctx, "single-use credential reused; revoking its grant", "what", what, "client_id", clientID)
		if err := RevokeGrant(ctx, s.store, grantID); err != nil {
			s.log.ErrorContext(ctx, "revoking grant", "err", err)
		}
		return invalidGrant(what + " was already used; the grant is revoked")
	case errors.Is(err, ErrNotFound):
		return invalidGrant(what + " is unknown")
	case err != nil:
		s.log.ErrorContext(ctx, "spending a single-use credential", "what", what, "err", err)
		return errServer
	}
	return nil
}
