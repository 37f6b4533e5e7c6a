package httpkit

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strconv"
	"sync/atomic"
)

// HeaderRequestID carries the request ID, in requests (when trusted) and in
// every response.
const HeaderRequestID = "X-Request-Id"

type requestIDKey struct{}

// RequestIDFromContext returns the request ID Edge gave the request, or "".
func RequestIDFromContext(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// requestIDs generates request IDs: a random prefix drawn once, then a
// counter. They are unique, not secret (logs and responses show them), so
// one crypto/rand read per middleware replaces one per request.
type requestIDs struct {
	prefix [11]byte // 8 random bytes, base64url
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	g := &requestIDs{}
	base64.RawURLEncoding.Encode(g.prefix[:], b[:])
	return g
}

// next returns "<prefix>.<counter in base 36>": at most 25 characters of
// [A-Za-z0-9._-]. It is out of line so that its buffer is not part of the
// middleware's stack frame, which long requests keep under them.
//
//go:noinline
func (g *requestIDs) next() string {
	var buf [32]byte
	b := append(buf[:0], g.prefix[:]...)
	b = append(b, '.')
	b = strconv.AppendUint(b, g.n.Add(1), 36)
	return string(b)
}

func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
