// Package principal defines who is behind a request: the identity every
// session is bound to. It owns the type only; authentication that produces a
// Principal lives in the auth packages.
package principal

import "context"

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
}

// Anonymous is the principal of requests on a listener without client
// authentication.
var Anonymous = Principal{Subject: "anonymous", Name: "anonymous"}

// Key identifies the user: issuer and subject.
func (p Principal) Key() string { return p.Issuer + "\x00" + p.Subject }

type ctxKey struct{}

// NewContext returns ctx carrying p.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal in ctx, or Anonymous.
func FromContext(ctx context.Context) Principal {
	if p, ok := ctx.Value(ctxKey{}).(Principal); ok {
		return p
	}
	return Anonymous
}
