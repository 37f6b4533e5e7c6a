package authserver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// Remembered consent ([A §Confused Deputy]: the proxy keeps a registry of
// the clients each user approved and checks it before the upstream
// redirect). The user is known only after the upstream login, so the
// browser carries who approved: a sealed (AES-GCM) cookie naming the
// user, set at the callback after the user approved on the consent page.
// The approval itself is a record in the store (a Grant with Consent set,
// ID consentID(user, client, resource, scopes)), expiring after
// ConsentTTL. At /authorize, a browser whose user has a live approval for
// the same client, scopes and resource skips the consent page; the
// callback then requires that same user, or refuses and forgets the
// cookie. Approving other scopes is a new consent. Revoking the grant
// forgets the consent (RevokeGrant).
//
//	/authorize ── cookie mcpgate_oauth_user → (iss, sub) ── store consent:<hash> live?
//	     yes: straight to the upstream (Authorization.RememberedUser = iss, sub)
//	     no:  consent page → approve → upstream → /callback stores consent:<hash>, sets the cookie

// userCookie names the browser's user for remembered consent. Named
// distinctly: cookies on loopback are shared across ports (OAUTH-NOTES).
const userCookie = "mcpgate_oauth_user"

// userCookieAD is the additional data sealing the cookie, so no other
// sealed value (an upstream token) opens as one.
const userCookieAD = "mcpgate user cookie"

type cookieUser struct {
	Issuer  string `json:"iss"`
	Subject string `json:"sub"`
	Expires int64  `json:"exp"`
}

// rememberedConsent returns the user (issuer NUL subject) of this
// browser when that user approved client for resource and scopes and the
// approval is live.
func (s *Server) rememberedConsent(ctx context.Context, r *http.Request, clientID, resource string, scopes []string) (string, bool) {
	if s.o.ConsentTTL < 0 {
		return "", false
	}
	ck, err := r.Cookie(s.cookie(userCookie))
	if err != nil || len(ck.Value) > 4096 {
		return "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil {
		return "", false
	}
	plain, err := s.seal.open(raw, userCookieAD)
	if err != nil {
		return "", false
	}
	var u cookieUser
	now := s.o.Now()
	if json.Unmarshal(plain, &u) != nil || u.Subject == "" || now.Unix() > u.Expires {
		return "", false
	}
	g, err := s.store.Grant(ctx, consentID(u.Issuer, u.Subject, clientID, resource, scopes))
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			s.log.ErrorContext(ctx, "reading consent", "err", err)
		}
		return "", false
	}
	if !g.Consent || now.After(g.ExpiresAt) {
		return "", false
	}
	return u.Issuer + "\x00" + u.Subject, true
}

// rememberConsent records that id approved a's client, scopes and
// resource, and names the user in this browser's cookie.
func (s *Server) rememberConsent(ctx context.Context, w http.ResponseWriter, id Identity, a Authorization) {
	if s.o.ConsentTTL < 0 {
		return
	}
	now := s.o.Now()
	exp := now.Add(s.o.ConsentTTL)
	c := Grant{ID: consentID(id.Issuer, id.Subject, a.ClientID, a.Resource, a.Scopes), ClientID: a.ClientID,
		Identity: Identity{Issuer: id.Issuer, Subject: id.Subject, Email: id.Email}, Resource: a.Resource,
		Scopes: a.Scopes, Consent: true, CreatedAt: now, ExpiresAt: exp}
	if err := s.store.PutGrant(ctx, c); err != nil {
		s.log.ErrorContext(ctx, "storing consent", "err", err)
		return
	}
	plain, _ := json.Marshal(cookieUser{Issuer: id.Issuer, Subject: id.Subject, Expires: exp.Unix()})
	http.SetCookie(w, &http.Cookie{
		Name: s.cookie(userCookie), Value: base64.RawURLEncoding.EncodeToString(s.seal.seal(plain, userCookieAD)),
		Path: "/", HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode,
		MaxAge: int(s.o.ConsentTTL / time.Second),
	})
}

// forgetUser removes the user cookie from the browser.
func (s *Server) forgetUser(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: s.cookie(userCookie), Value: "", Path: "/", HttpOnly: true, Secure: s.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// cookie is the name of one of the server's cookies: with the __Host-
// prefix on https (Secure, Path=/, no Domain: the browser refuses it from
// anywhere else, [SBP §Confused Deputy] consent cookies), plain on
// loopback http, where the tests' HTTP clients would not send a Secure
// cookie.
func (s *Server) cookie(name string) string {
	if s.secure {
		return "__Host-" + name
	}
	return name
}
