// Package principal defines who is behind a request: the identity every
// session is bound to. It owns the type only; authentication that produces a
// Principal lives in the auth packages.
package principal

import (
	"context"
	"slices"

	"github.com/mcpgate/mcpgate/internal/secret"
)

// Principal is an authenticated (or anonymous) caller. Two principals are the
// same user when Key() is equal; a refreshed token for the same user yields
// the same key, so sessions survive token rotation.
type Principal struct {
	// Issuer is who vouches for the subject: an OAuth issuer URL, "static"
	// for configured tokens, "passthrough" for credential passthrough, or ""
	// for the anonymous principal of an unauthenticated loopback listener.
	Issuer string
	// Subject identifies the user at Issuer.
	Subject string
	// Name is a display name for logs and stats (never a secret).
	Name string
	// Role is admin, user or readonly; "" means user.
	Role string
	// Scopes granted to the token, if any.
	Scopes []string
	// ClientID is the OAuth client the token was issued to, if any.
	ClientID string
	// GrantID is the gateway's OAuth grant the token belongs to (auth
	// mode oauth): the handle under which the user's upstream identity
	// provider tokens are kept, for upstreams with credential type oauth.
	// Server-side only; never sent to clients or upstreams.
	GrantID string

	// key caches Key (WithKey); "" means not computed.
	key string
}

// Roles. A principal's Role is one of these; "" means RoleUser.
const (
	// RoleAdmin may do everything a user may, and use the admin API.
	RoleAdmin = "admin"
	// RoleUser may use every MCP method and tool the gateway offers.
	RoleUser = "user"
	// RoleReadOnly may list and read, and call only tools annotated
	// readOnlyHint: true.
	RoleReadOnly = "readonly"
)

// ValidRole reports whether role is "", RoleAdmin, RoleUser or
// RoleReadOnly.
func ValidRole(role string) bool {
	return role == "" || role == RoleAdmin || role == RoleUser || role == RoleReadOnly
}

// ReadOnly reports whether p may only read (RoleReadOnly).
func (p Principal) ReadOnly() bool { return p.Role == RoleReadOnly }

// Anonymous is the principal of requests on a listener without client
// authentication.
var Anonymous = Principal{Subject: "anonymous", Name: "anonymous"}.WithKey()

// Key identifies the user: issuer and subject.
func (p Principal) Key() string {
	if p.key != "" {
		return p.key
	}
	return p.Issuer + "\x00" + p.Subject
}

// Equal reports whether p and q are the same principal, field for field;
// the cached Key (WithKey) does not count. go-cmp uses it.
func (p Principal) Equal(q Principal) bool {
	return p.Issuer == q.Issuer && p.Subject == q.Subject && p.Name == q.Name && p.Role == q.Role &&
		slices.Equal(p.Scopes, q.Scopes) && p.ClientID == q.ClientID && p.GrantID == q.GrantID
}

// WithKey returns p with its Key computed once: a principal an
// authenticator hands out on every request (and that several layers key
// maps by) then costs no string concatenation per use. A principal's
// fields do not change after it is made; one built as a literal computes
// its Key on each call.
func (p Principal) WithKey() Principal {
	p.key = p.Issuer + "\x00" + p.Subject
	return p
}

type ctxKey struct{}

// NewContext returns ctx carrying p.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// IsAnonymous reports whether p is Anonymous, field for field. A context
// without a principal answers Anonymous (FromContext), so a request whose
// principal is Anonymous needs no context of its own.
func (p Principal) IsAnonymous() bool { return p.Equal(Anonymous) }

// FromContext returns the principal in ctx, or Anonymous.
func FromContext(ctx context.Context) Principal {
	if p, ok := ctx.Value(ctxKey{}).(Principal); ok {
		return p
	}
	return Anonymous
}

// Credential is an upstream credential the client supplied with the current
// request (credential passthrough): the value to present to the upstream
// named Upstream, and to no one else. It lives only in the request's
// context, never in a Principal or a session record.
type Credential struct {
	// Upstream names the upstream the credential is for.
	Upstream string
	// Value is the credential as the client sent it (for a bearer token,
	// without the "Bearer " prefix).
	Value secret.String
}

type credKey struct{}

// NewCredentialContext returns ctx carrying c.
func NewCredentialContext(ctx context.Context, c Credential) context.Context {
	return context.WithValue(ctx, credKey{}, c)
}

// CredentialFromContext returns the passthrough credential in ctx, if any.
func CredentialFromContext(ctx context.Context) (Credential, bool) {
	c, ok := ctx.Value(credKey{}).(Credential)
	return c, ok
}
