// Package bearer authenticates MCP clients: an Authenticator turns the
// credential a request carries into the principal.Principal that owns its
// sessions, and Middleware refuses requests without a valid one with 401, a
// JSON body saying how to authenticate, and a WWW-Authenticate challenge
// (RFC 6750 §3).
//
// Four authenticators exist: Anonymous (no client authentication, for
// loopback listeners), Static (tokens from the configuration, kept as
// SHA-256 digests and compared in constant time), Passthrough (the
// client's credential for one upstream, which the gateway does not check
// itself but binds the session to and hands to that upstream only) and
// OAuth (access tokens of the gateway's own authorization server, package
// authserver, accepted only when bound to this resource).
//
// No credential, digest or credential-derived value ever reaches a log, an
// error message or a response from this package.
package bearer

import (
	"errors"
	"net/http"
	"strings"

	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/secret"
)

// Authenticator identifies the principal behind a request. It returns
// ErrNoCredential when the request carries none, ErrInvalidCredential when
// it carries one that is not accepted, and ErrMalformed when the
// credential cannot be parsed; Middleware maps them to 401, 401 and 400.
// Other errors are server failures (503, so clients retry). Implementations
// must be safe for concurrent use and must not log credentials.
type Authenticator interface {
	Authenticate(r *http.Request) (principal.Principal, error)
}

// CredentialSource is implemented by authenticators whose credential is
// meant for an upstream as well (Passthrough). Middleware stores the
// credential in the request's context (principal.NewCredentialContext) for
// the upstream layer to inject.
type CredentialSource interface {
	Credential(r *http.Request) (principal.Credential, bool)
}

// Hinter is implemented by authenticators that can tell a client how to
// authenticate; Middleware puts the hint in the 401 body.
type Hinter interface {
	Hint() string
}

// Errors an Authenticator returns.
var (
	// ErrNoCredential: the request carries no credential.
	ErrNoCredential = errors.New("no credential")
	// ErrInvalidCredential: the credential is unknown, expired or revoked.
	ErrInvalidCredential = errors.New("invalid credential")
	// ErrMalformed: the credential header cannot be parsed (sent twice, or
	// not in the expected form).
	ErrMalformed = errors.New("malformed credential")
)

// MaxCredentialLen bounds the credentials accepted: longer is malformed.
const MaxCredentialLen = secret.MaxTokenLen

// Anonymous is the Authenticator of a listener without client
// authentication: every request is principal.Anonymous.
type Anonymous struct{}

// Authenticate implements Authenticator.
func (Anonymous) Authenticate(*http.Request) (principal.Principal, error) {
	return principal.Anonymous, nil
}

// bearerToken returns the token of the request's Authorization header in
// the Bearer scheme (RFC 6750 §2.1; the scheme name is case-insensitive,
// RFC 9110 §11.1). A missing header or another scheme is ErrNoCredential;
// a repeated header, an empty, over-long or space-containing token is
// ErrMalformed. Tokens in the query string are never read ([A §Token
// Requirements]: clients MUST NOT send them there).
func bearerToken(r *http.Request) (string, error) {
	vs := r.Header["Authorization"]
	switch {
	case len(vs) == 0:
		return "", ErrNoCredential
	case len(vs) > 1:
		return "", ErrMalformed
	}
	scheme, tok, _ := strings.Cut(vs[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", ErrNoCredential
	}
	tok = strings.TrimLeft(tok, " ")
	if tok == "" || len(tok) > MaxCredentialLen || strings.ContainsAny(tok, " \t") {
		return "", ErrMalformed
	}
	return tok, nil
}

// headerValue returns the one value of a custom credential header.
func headerValue(r *http.Request, key string) (string, error) {
	vs := r.Header.Values(key)
	switch {
	case len(vs) == 0:
		return "", ErrNoCredential
	case len(vs) > 1:
		return "", ErrMalformed
	}
	v := strings.TrimSpace(vs[0])
	switch {
	case v == "":
		return "", ErrNoCredential
	case len(v) > MaxCredentialLen:
		return "", ErrMalformed
	}
	return v, nil
}
