// Package secret holds values that must never reach a log, an error message
// or a response: tokens, token hashes and upstream credentials. A String
// prints, logs and marshals as REDACTED, so redaction cannot be forgotten;
// only Reveal gives the value, at the one place that must use it.
//
// It also owns static client tokens: how they are made (NewToken), checked
// (CheckToken) and stored — as SHA-256 digests written "sha256:<hex>"
// (HashToken, ParseDigest), never in plain text.
package secret

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
)

// Redacted is what a String shows instead of its value.
const Redacted = "REDACTED"

// String is a secret string. The zero value is the empty secret.
//
// It formats as REDACTED with every fmt verb (including %#v and %q),
// logs as REDACTED through slog, and marshals as "REDACTED" to JSON and
// text, so a struct holding one can be logged or dumped safely.
type String struct {
	v string // unexported: reflection-based encoders cannot reach it
}

// New wraps s.
func New(s string) String { return String{v: s} }

// Reveal returns the secret value. Call it only where the value is used
// (compared, hashed, or sent to the one party it is meant for).
func (s String) Reveal() string { return s.v }

// IsZero reports whether the secret is empty.
func (s String) IsZero() bool { return s.v == "" }

// Equal reports whether s and o hold the same value, in time that does
// not depend on where they differ (crypto/subtle). go-cmp uses it too.
func (s String) Equal(o String) bool {
	return subtle.ConstantTimeCompare([]byte(s.v), []byte(o.v)) == 1
}

// String implements fmt.Stringer.
func (s String) String() string { return Redacted }

// GoString implements fmt.GoStringer.
func (s String) GoString() string { return "secret.String(" + Redacted + ")" }

// Format implements fmt.Formatter, so that no verb prints the value.
func (s String) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		f.Write([]byte(s.GoString()))
		return
	}
	f.Write([]byte(Redacted))
}

// LogValue implements slog.LogValuer.
func (s String) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalJSON implements json.Marshaler.
func (s String) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText implements encoding.TextMarshaler (and so YAML and map keys).
func (s String) MarshalText() ([]byte, error) { return []byte(Redacted), nil }
