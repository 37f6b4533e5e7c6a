package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// DigestPrefix starts a token digest as written in the configuration:
// "sha256:" and 64 lower-case hex digits.
const DigestPrefix = "sha256:"

// TokenPrefix starts tokens made by NewToken, so that secret scanners can
// recognise a leaked one.
const TokenPrefix = "mcpgate_"

// MaxTokenLen bounds tokens and credentials: longer is malformed.
const MaxTokenLen = 8 << 10

// MinTokenLen is the shortest token HashToken accepts. Static tokens are
// stored as unsalted SHA-256 digests, which is safe only for tokens with
// enough entropy to make guessing hopeless: make them with NewToken
// (`mcpgate hash-token --new`).
const MinTokenLen = 24

// Digest is the SHA-256 of a token. Like String, it never prints or logs
// its value.
type Digest [sha256.Size]byte

// IsZero reports whether d is the zero digest (no digest).
func (d Digest) IsZero() bool { return d == Digest{} }

// String implements fmt.Stringer.
func (d Digest) String() string { return DigestPrefix + Redacted }

// Format implements fmt.Formatter, so that no verb prints the value.
func (d Digest) Format(f fmt.State, _ rune) { f.Write([]byte(d.String())) }

// LogValue implements slog.LogValuer.
func (d Digest) LogValue() slog.Value { return slog.StringValue(d.String()) }

// MarshalText implements encoding.TextMarshaler.
func (d Digest) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// HashToken returns the digest of tok as written in the configuration,
// "sha256:<hex>". It refuses tokens shorter than MinTokenLen or with
// characters a Bearer token cannot carry.
func HashToken(tok string) (string, error) {
	if err := CheckToken(tok); err != nil {
		return "", err
	}
	d := sha256.Sum256([]byte(tok))
	return DigestPrefix + hex.EncodeToString(d[:]), nil
}

// DigestOf returns the digest of tok, without checking it.
func DigestOf(tok string) Digest { return sha256.Sum256([]byte(tok)) }

// CheckToken reports whether tok can be a static token: at least
// MinTokenLen characters of visible ASCII. It never includes the token in
// its error.
func CheckToken(tok string) error {
	if len(tok) < MinTokenLen {
		return fmt.Errorf("token is shorter than %d characters; make one with `mcpgate hash-token --new`", MinTokenLen)
	}
	if len(tok) > MaxTokenLen {
		return fmt.Errorf("token is longer than %d bytes", MaxTokenLen)
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] <= ' ' || tok[i] > '~' {
			return errors.New("token must be visible ASCII characters without spaces")
		}
	}
	return nil
}

// ParseDigest parses "sha256:<64 hex digits>" (lower or upper case). Its
// error never repeats the input.
func ParseDigest(s string) (Digest, error) {
	var d Digest
	h, ok := strings.CutPrefix(s, DigestPrefix)
	if !ok {
		return d, fmt.Errorf("want %q followed by 64 hex digits", DigestPrefix)
	}
	if len(h) != hex.EncodedLen(len(d)) {
		return d, fmt.Errorf("want %q followed by 64 hex digits, got %d characters after the prefix", DigestPrefix, len(h))
	}
	if _, err := hex.Decode(d[:], []byte(h)); err != nil {
		return d, fmt.Errorf("want %q followed by 64 hex digits: not hex", DigestPrefix)
	}
	return d, nil
}

// NewToken returns a fresh random token: TokenPrefix and 256 bits from
// crypto/rand, base64url-encoded.
func NewToken() string {
	var b [32]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}
