package authserver

import (
	"crypto/subtle"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// browserCookie binds an authorization to the browser that started it,
// so neither the consent form nor the callback can be completed from
// another browser (login CSRF). Named distinctly: cookies on loopback are
// shared across ports (OAUTH-NOTES).
const browserCookie = "mcpgate_oauth_browser"

// maxFormBytes bounds form bodies.
const maxFormBytes = 16 << 10

// serveAuthorize validates an authorization request (OAuth 2.1 §4.1.1) and
// shows the consent page. Until client and redirect URI are known good,
// errors are shown to the user, never redirected (RFC 6749 §4.1.2.1; [A
// §Open Redirection]).
func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s.maybeSweep(ctx)
	q := r.URL.Query()
	for k, vs := range q {
		// RFC 6749 §3.1: parameters must not be repeated.
		if len(vs) > 1 {
			s.errorPage(w, http.StatusBadRequest, "The request repeats the parameter "+k+".")
			return
		}
	}
	var c Client
	var err error
	if id := q.Get("client_id"); isCIMDClientID(id) && !s.o.CIMD.Disabled {
		c, err = s.cimdClient(ctx, id)
	} else {
		c, err = s.storedClient(ctx, id)
	}
	var limited errRateLimited
	if errors.Is(err, ErrNotFound) || q.Get("client_id") == "" {
		s.errorPage(w, http.StatusBadRequest, "Unknown client.")
		return
	} else if errors.As(err, &limited) {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(limited.retry.Seconds()))))
		s.errorPage(w, http.StatusTooManyRequests, "Too many client metadata documents were fetched from this client's site; try again later.")
		return
	} else if err != nil {
		s.log.ErrorContext(ctx, "reading client", "err", err)
		s.errorPage(w, http.StatusInternalServerError, "The authorization server failed; try again.")
		return
	}
	redirectURI := q.Get("redirect_uri")
	if redirectURI == "" && len(c.RedirectURIs) == 1 {
		redirectURI = c.RedirectURIs[0]
	}
	// Exact string match, no normalisation ([A §Open Redirection];
	// OAuth 2.1 §4.1.1.3 / RFC 9700 §4.1.3).
	if !slices.Contains(c.RedirectURIs, redirectURI) {
		s.errorPage(w, http.StatusBadRequest, "The redirect URI is not registered for this client.")
		return
	}
	state := q.Get("state")
	fail := func(code, desc string) { s.redirectError(w, r, redirectURI, state, code, desc) }
	if q.Get("response_type") != "code" {
		fail("unsupported_response_type", "response_type must be code")
		return
	}
	// [A §Authorization Code Protection]: PKCE with S256; plain and a
	// missing challenge are refused (OAuth 2.1 §4.1.1).
	challenge := q.Get("code_challenge")
	if challenge == "" {
		fail("invalid_request", "code_challenge is required (PKCE)")
		return
	}
	if q.Get("code_challenge_method") != "S256" {
		fail("invalid_request", "code_challenge_method must be S256")
		return
	}
	if len(challenge) != 43 || strings.Trim(challenge, pkceAlphabet) != "" {
		fail("invalid_request", "code_challenge is not a base64url SHA-256 digest")
		return
	}
	// RFC 8707 §2 / [A §Resource Parameter Implementation]: the resource
	// must be ours; a missing one means ours.
	resource := q.Get("resource")
	if resource == "" {
		resource = s.o.Resource
	}
	if resource != s.o.Resource {
		fail("invalid_target", "the resource is not served by this authorization server")
		return
	}
	scopes := s.grantScopes(q.Get("scope"))
	browser := s.browserID(w, r)
	consentID, csrf := randomValue(), randomValue()
	a := Authorization{
		ClientID: c.ID, RedirectURI: redirectURI, State: state, CodeChallenge: challenge,
		Resource: resource, Scopes: scopes, CSRFHash: hashKey(csrf), BrowserHash: hashKey(browser),
		ExpiresAt: s.o.Now().Add(DefaultAuthorizationTTL),
	}
	// A consent this browser's user gave before for the same client,
	// scopes and resource skips the page; the callback then insists on
	// the same user ([A §Confused Deputy]: consent per user and client).
	if user, ok := s.rememberedConsent(ctx, r, c.ID, resource, scopes); ok {
		a.CSRFHash, a.RememberedUser = "", user
		s.startUpstream(w, r, a)
		return
	}
	if err := s.store.PutAuthorization(ctx, hashKey(consentID), a); err != nil {
		s.log.ErrorContext(ctx, "storing authorization", "err", err)
		fail("server_error", "")
		return
	}
	// [A §Confused Deputy]: the gateway is one static client upstream, so
	// every client needs the user's own consent here, before the upstream
	// redirect; the page names the client and where it will be sent.
	ru, _ := url.Parse(redirectURI)
	s.page(w, http.StatusOK, consentTemplate, map[string]any{
		"Client": c.Name, "ClientID": c.ID, "RedirectHost": ru.Host, "RedirectURI": redirectURI,
		"Scopes": scopes, "Resource": resource, "ID": consentID, "CSRF": csrf,
		"Loopback": isLoopbackHost(ru.Hostname()),
	})
}

// serveConsent takes the consent form's answer: on approval it sends the
// browser to the upstream provider with the gateway's own state, nonce and
// PKCE (OIDC Core §3.1.2.1); on refusal back to the client with
// access_denied.
func (s *Server) serveConsent(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, http.StatusBadRequest, "The form is malformed.")
		return
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" && o != originOf(s.o.Issuer) {
		s.errorPage(w, http.StatusForbidden, "The form was posted from another site.")
		return
	}
	a, err := s.store.TakeAuthorization(ctx, hashKey(r.PostForm.Get("id")))
	if err != nil || s.o.Now().After(a.ExpiresAt) {
		s.errorPage(w, http.StatusBadRequest, "This authorization request is unknown, used or expired; start again from the application.")
		return
	}
	ck, _ := r.Cookie(s.cookie(browserCookie))
	if ck == nil || !equalHash(a.BrowserHash, hashKey(ck.Value)) || !equalHash(a.CSRFHash, hashKey(r.PostForm.Get("csrf"))) {
		s.errorPage(w, http.StatusForbidden, "The consent form did not come from this browser's authorization request.")
		return
	}
	if r.PostForm.Get("action") != "approve" {
		s.redirectError(w, r, a.RedirectURI, a.State, "access_denied", "the user refused the authorization")
		return
	}
	s.startUpstream(w, r, a)
}

// startUpstream sends the browser of an approved authorization to the
// upstream provider with the gateway's own state, nonce and PKCE (OIDC
// Core §3.1.2.1).
func (s *Server) startUpstream(w http.ResponseWriter, r *http.Request, a Authorization) {
	ctx := r.Context()
	p, err := s.upstream(ctx)
	if err != nil {
		s.log.ErrorContext(ctx, "upstream unavailable", "err", err)
		s.redirectError(w, r, a.RedirectURI, a.State, "temporarily_unavailable", "the identity provider is unreachable")
		return
	}
	state, nonce, verifier := randomValue(), randomValue(), oauth2.GenerateVerifier()
	a.UpstreamNonce, a.UpstreamVerifier, a.CSRFHash = nonce, verifier, ""
	a.ExpiresAt = s.o.Now().Add(DefaultAuthorizationTTL)
	if err := s.store.PutAuthorization(ctx, hashKey(state), a); err != nil {
		s.log.ErrorContext(ctx, "storing authorization", "err", err)
		s.redirectError(w, r, a.RedirectURI, a.State, "server_error", "")
		return
	}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)}
	if s.o.Upstream.Prompt != "" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", s.o.Upstream.Prompt))
	}
	for k, v := range s.o.Upstream.AuthParams {
		if !reservedAuthParams[k] {
			opts = append(opts, oauth2.SetAuthURLParam(k, v))
		}
	}
	http.Redirect(w, r, s.oauth2Config(p).AuthCodeURL(state, opts...), http.StatusFound)
}

// reservedAuthParams are the upstream authorization request parameters
// the server sets itself; Upstream.AuthParams cannot replace them.
var reservedAuthParams = map[string]bool{"client_id": true, "redirect_uri": true, "response_type": true, "scope": true,
	"state": true, "nonce": true, "code_challenge": true, "code_challenge_method": true, "prompt": true}

// grantScopes returns the supported scopes among the requested ones, or all
// supported scopes when none is requested or none is supported (RFC 6749
// §3.3 lets the server ignore what it does not offer).
func (s *Server) grantScopes(requested string) []string {
	var out []string
	for _, sc := range strings.Fields(requested) {
		if slices.Contains(s.o.Scopes, sc) && !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	if len(out) == 0 {
		return slices.Clone(s.o.Scopes)
	}
	return out
}

// browserID returns the browser-binding cookie's value, setting a new one
// when the request has none.
func (s *Server) browserID(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(s.cookie(browserCookie)); err == nil && len(ck.Value) == 43 {
		return ck.Value
	}
	v := randomValue()
	http.SetCookie(w, &http.Cookie{
		Name: s.cookie(browserCookie), Value: v, Path: "/", HttpOnly: true, Secure: s.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(DefaultAuthorizationTTL.Seconds()) * 6,
	})
	return v
}

func equalHash(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func originOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return p.Scheme + "://" + p.Host
}

// page writes an HTML page that cannot be framed or cached ([A §Confused
// Deputy]: frame-ancestors).
func (s *Server) page(w http.ResponseWriter, status int, t *template.Template, data any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	if err := t.Execute(w, data); err != nil {
		s.log.Error("rendering page", "err", err)
	}
}

func (s *Server) errorPage(w http.ResponseWriter, status int, msg string) {
	s.page(w, status, errorTemplate, msg)
}

var consentTemplate = template.Must(template.New("consent").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Authorize {{.Client}}</title>
<style>body{font-family:sans-serif;max-width:36em;margin:3em auto}code{word-break:break-all}</style></head>
<body><h1>Authorize access to mcpgate</h1>
<p>The application <strong>{{if .Client}}{{.Client}}{{else}}(unnamed){{end}}</strong> (client <code>{{.ClientID}}</code>)
asks to use your MCP tools at <code>{{.Resource}}</code> with the scopes
{{range .Scopes}}<code>{{.}}</code> {{end}}.</p>
<p>After you sign in you will be sent to <strong>{{.RedirectHost}}</strong> (<code>{{.RedirectURI}}</code>).
{{if .Loopback}}This is an application on your own computer; approve only if you just started it.{{end}}</p>
<form method="post" action="authorize">
<input type="hidden" name="id" value="{{.ID}}"><input type="hidden" name="csrf" value="{{.CSRF}}">
<button type="submit" name="action" value="approve">Approve</button>
<button type="submit" name="action" value="deny">Deny</button>
</form></body></html>
`))

var errorTemplate = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Authorization error</title></head>
<body><h1>Authorization error</h1><p>{{.}}</p></body></html>
`))
