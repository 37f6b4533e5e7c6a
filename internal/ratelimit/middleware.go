package ratelimit

import (
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/mcpgate/mcpgate/internal/httpkit"
	"github.com/mcpgate/mcpgate/internal/metrics"
	"github.com/mcpgate/mcpgate/internal/principal"
)

// MiddlewareOptions configures Middleware. Nil options mean all defaults.
type MiddlewareOptions struct {
	// PerMinute is the configured rate, for the error message only. Zero
	// leaves the number out.
	PerMinute int
	// Key returns the key a request is limited by. Nil means the key of
	// the principal in the request's context (principal.FromContext), so
	// Middleware belongs after authentication.
	Key func(r *http.Request) string
	// WriteError writes the 429 response. Nil means httpkit.WriteJSON.
	WriteError httpkit.ErrorWriter
	// Logger receives refusals (at Debug) and limiter failures. Nil
	// discards.
	Logger *slog.Logger
	// Refused counts refused requests. Nil counts nothing.
	Refused *metrics.Counter
}

// Middleware refuses requests over the limiter's rate with 429 Too Many
// Requests and a Retry-After header in whole seconds (RFC 6585 §4,
// RFC 9110 §10.2.3). When the limiter fails, the request passes (and the
// failure is logged): a broken limiter store must not take the gateway
// down.
func Middleware(l Limiter, opts *MiddlewareOptions) httpkit.Middleware {
	var o MiddlewareOptions
	if opts != nil {
		o = *opts
	}
	if o.Key == nil {
		o.Key = func(r *http.Request) string { return principal.FromContext(r.Context()).Key() }
	}
	if o.WriteError == nil {
		o.WriteError = httpkit.WriteJSON
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	limit := "the request rate limit"
	if o.PerMinute > 0 {
		limit = fmt.Sprintf("the limit of %d requests per minute", o.PerMinute)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			d, err := l.Allow(r.Context(), o.Key(r))
			if err != nil {
				log.WarnContext(r.Context(), "rate limiter failed; request allowed", "err", err,
					"request_id", httpkit.RequestIDFromContext(r.Context()))
				next.ServeHTTP(w, r)
				return
			}
			if d.Allowed {
				next.ServeHTTP(w, r)
				return
			}
			o.Refused.Inc()
			secs := retrySeconds(d.RetryAfter)
			log.DebugContext(r.Context(), "request refused: rate limit", "principal", principal.FromContext(r.Context()).Name,
				"retry_after", secs, "request_id", httpkit.RequestIDFromContext(r.Context()))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			o.WriteError(w, r, httpkit.NewError(http.StatusTooManyRequests, "rate_limited",
				fmt.Sprintf("Too Many Requests: %s for this user is reached; retry after %d seconds.", limit, secs)))
		})
	}
}

// retrySeconds rounds a wait up to whole seconds, at least one.
func retrySeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
