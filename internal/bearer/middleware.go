package bearer

import (
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/mcpgate/mcpgate/internal/httpkit"
	"github.com/mcpgate/mcpgate/internal/metrics"
	"github.com/mcpgate/mcpgate/internal/principal"
)

// DefaultRealm is the realm of challenges when none is configured.
const DefaultRealm = "mcpgate"

// MiddlewareOptions configures Middleware. Nil options mean all defaults.
type MiddlewareOptions struct {
	// Realm names the protection space in WWW-Authenticate challenges
	// (RFC 6750 §3). Zero means DefaultRealm. It must not contain '"',
	// '\' or control characters.
	Realm string
	// ResourceMetadata, if set, is the absolute URL of the OAuth protected
	// resource metadata, added to every challenge as resource_metadata
	// (RFC 9728 §5.1; [A §Protected Resource Metadata Discovery]). The
	// OAuth issue sets it. Zero leaves it out.
	ResourceMetadata string
	// Scope, if set, is added to the challenges of missing and invalid
	// credentials as scope: the scopes a client should request ([A §PRM
	// Discovery]; RFC 6750 §3). Zero leaves it out.
	Scope string
	// RequiredScopes, if set, must all be among an authenticated
	// principal's scopes; a principal lacking one gets 403 with an
	// insufficient_scope challenge naming them (RFC 6750 §3.1; [A §Scope
	// Challenge Handling]: step-up). Zero checks no scope.
	RequiredScopes []string
	// WriteError writes the 400, 401, 403 and 503 responses. Nil means
	// httpkit.WriteJSON; the MCP endpoint passes streamable.WriteError.
	WriteError httpkit.ErrorWriter
	// Logger receives one line per refused request (never a credential).
	// Nil discards.
	Logger *slog.Logger
	// Refused counts requests refused for a missing, invalid or malformed
	// credential. Nil counts nothing.
	Refused *metrics.Counter
}

// The errors Middleware writes. Their messages are public.
var (
	errUnauthorized = httpkit.NewError(http.StatusUnauthorized, "unauthorized", "Unauthorized: authentication required.")
	errInvalidToken = httpkit.NewError(http.StatusUnauthorized, "invalid_token", "Unauthorized: the credential is not valid.")
	errMalformed    = httpkit.NewError(http.StatusBadRequest, "invalid_request",
		"Bad Request: the credential header is malformed (sent twice, empty, or not in the expected form).")
	errInsufficientScope = httpkit.NewError(http.StatusForbidden, "insufficient_scope",
		"Forbidden: the access token lacks a scope this endpoint requires; obtain one with the scopes in the WWW-Authenticate header.")
	errUnavailable = httpkit.NewError(http.StatusServiceUnavailable, "auth_unavailable",
		"Service Unavailable: authentication is temporarily unavailable.")
)

// Middleware authenticates every request with a and passes it on with the
// principal in its context (principal.NewContext), and with the upstream
// credential too when a is a CredentialSource. A request without a valid
// credential is refused: 401 with a WWW-Authenticate: Bearer challenge and
// a body saying how to authenticate; a malformed one gets 400
// (RFC 6750 §3.1: invalid_request); a failing authenticator 503.
func Middleware(a Authenticator, opts *MiddlewareOptions) httpkit.Middleware {
	var o MiddlewareOptions
	if opts != nil {
		o = *opts
	}
	if o.Realm == "" {
		o.Realm = DefaultRealm
	}
	if o.WriteError == nil {
		o.WriteError = httpkit.WriteJSON
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hint := "Send a credential in the Authorization header: Authorization: Bearer <token>."
	if h, ok := a.(Hinter); ok {
		hint = h.Hint()
	}
	missing := withHint(errUnauthorized, hint)
	invalid := withHint(errInvalidToken, hint)
	malformed := withHint(errMalformed, hint)
	// RFC 6750 §3.1: a request without credentials gets a challenge
	// without an error code; a bad one names the error.
	challengeMissing := challenge(o.Realm, "", o.ResourceMetadata, o.Scope)
	challengeInvalid := challenge(o.Realm, "invalid_token", o.ResourceMetadata, o.Scope)
	challengeMalformed := challenge(o.Realm, "invalid_request", o.ResourceMetadata, "")
	source, _ := a.(CredentialSource)
	challengeScope := challenge(o.Realm, "insufficient_scope", o.ResourceMetadata, strings.Join(o.RequiredScopes, " "))

	m := &middleware{a: a, o: o, log: log, source: source,
		missing: missing, invalid: invalid, malformed: malformed,
		challengeMissing: challengeMissing, challengeInvalid: challengeInvalid,
		challengeMalformed: challengeMalformed, challengeScope: challengeScope}
	return func(next http.Handler) http.Handler {
		// The handler's own frame stays small: SSE streams park under it
		// for their whole life, and a parked stack is only shrunk while
		// little of it is in use (docs/performance.md, idle streams).
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r = m.authenticate(w, r); r != nil {
				next.ServeHTTP(w, r)
			}
		})
	}
}

// middleware holds what Middleware's handler needs, built once.
type middleware struct {
	a                                                                      Authenticator
	o                                                                      MiddlewareOptions
	log                                                                    *slog.Logger
	source                                                                 CredentialSource
	missing, invalid, malformed                                            *httpkit.Error
	challengeMissing, challengeInvalid, challengeMalformed, challengeScope string
}

// authenticate returns r carrying its principal (and passthrough
// credential), or nil after writing the refusal.
//
//go:noinline
func (m *middleware) authenticate(w http.ResponseWriter, r *http.Request) *http.Request {
	o, log := &m.o, m.log
	p, err := m.a.Authenticate(r)
	if err == nil && !hasScopes(p.Scopes, o.RequiredScopes) {
		log.InfoContext(r.Context(), "request refused: insufficient scope",
			"request_id", httpkit.RequestIDFromContext(r.Context()))
		w.Header().Set("WWW-Authenticate", m.challengeScope)
		o.WriteError(w, r, errInsufficientScope)
		return nil
	}
	if err == nil {
		var cred principal.Credential
		hasCred := false
		if m.source != nil {
			cred, hasCred = m.source.Credential(r)
		}
		if !hasCred && p.IsAnonymous() {
			// principal.FromContext answers Anonymous already: no context
			// value and no request copy per request (auth mode none).
			return r
		}
		ctx := principal.NewContext(r.Context(), p)
		if hasCred {
			ctx = principal.NewCredentialContext(ctx, cred)
		}
		return r.WithContext(ctx)
	}
	var e *httpkit.Error
	var ch string
	switch {
	case errors.Is(err, ErrNoCredential):
		e, ch = m.missing, m.challengeMissing
	case errors.Is(err, ErrInvalidCredential):
		e, ch = m.invalid, m.challengeInvalid
	case errors.Is(err, ErrMalformed):
		e, ch = m.malformed, m.challengeMalformed
	default:
		log.ErrorContext(r.Context(), "authentication failed", "err", err,
			"request_id", httpkit.RequestIDFromContext(r.Context()))
		o.WriteError(w, r, errUnavailable)
		return nil
	}
	o.Refused.Inc()
	log.InfoContext(r.Context(), "request refused: authentication", "code", e.Code,
		"request_id", httpkit.RequestIDFromContext(r.Context()))
	w.Header().Set("WWW-Authenticate", ch)
	o.WriteError(w, r, e)
	return nil
}

func withHint(e *httpkit.Error, hint string) *httpkit.Error {
	return httpkit.NewError(e.Status, e.Code, e.Message+" "+hint)
}

// challenge builds a Bearer challenge (RFC 6750 §3) with quoted-string
// parameters (RFC 9110 §11.2).
func challenge(realm, code, resourceMetadata, scope string) string {
	var b strings.Builder
	b.WriteString(`Bearer realm="`)
	b.WriteString(quote(realm))
	b.WriteByte('"')
	if code != "" {
		b.WriteString(`, error="`)
		b.WriteString(code)
		b.WriteByte('"')
	}
	if resourceMetadata != "" {
		b.WriteString(`, resource_metadata="`)
		b.WriteString(quote(resourceMetadata))
		b.WriteByte('"')
	}
	if scope != "" {
		b.WriteString(`, scope="`)
		b.WriteString(quote(scope))
		b.WriteByte('"')
	}
	return b.String()
}

func quote(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// hasScopes reports whether have holds every scope of want.
func hasScopes(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}
