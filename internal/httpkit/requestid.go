package httpkit

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
)

// HeaderRequestID carries the request ID, in requests (when trusted) and in
// every response.
const HeaderRequestID = "X-Request-Id"

// RequestIDOptions configures RequestID. The zero value always generates a
// fresh ID.
type RequestIDOptions struct {
	// TrustIncoming keeps a well-formed X-Request-Id sent by the client (1 to
	// 64 characters of [A-Za-z0-9._-]), as behind a proxy that sets one.
	// False ignores it, so clients cannot choose what the logs say.
	TrustIncoming bool
}

type requestIDKey struct{}

// RequestIDFromContext returns the request ID set by RequestID, or "".
func RequestIDFromContext(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// RequestID gives every request an ID: in its context
// (RequestIDFromContext) and in the X-Request-Id response header.
func RequestID(opts *RequestIDOptions) Middleware {
	trust := opts != nil && opts.TrustIncoming
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := ""
			if trust {
				if v := r.Header.Get(HeaderRequestID); validRequestID(v) {
					id = v
				}
			}
			if id == "" {
				id = newRequestID()
			}
			w.Header().Set(HeaderRequestID, id)
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
		})
	}
}

func newRequestID() string {
	var b [12]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
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
