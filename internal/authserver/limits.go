package authserver

import (
	"context"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/mcpgate/mcpgate/internal/ratelimit"
)

// Defaults of the abuse limits in Options.
const (
	// DefaultRegisterPerMinute bounds dynamic registrations per client IP.
	DefaultRegisterPerMinute = 20
	// DefaultCIMDFetchesPerMinute bounds metadata document fetches per
	// document host.
	DefaultCIMDFetchesPerMinute = 30
	// DefaultClientIdleTTL forgets dynamic clients unused this long.
	DefaultClientIdleTTL = 90 * 24 * time.Hour
	// clientTouchEvery bounds how often a client's LastUsed is written.
	clientTouchEvery = time.Hour
)

// errRateLimited: a registration or a document fetch over its limit.
type errRateLimited struct{ retry time.Duration }

func (e errRateLimited) Error() string { return "rate limited" }

// newLimiter returns a per-minute limiter, or nil for a negative rate
// (no limit).
func newLimiter(perMinute int, now func() time.Time) (ratelimit.Limiter, error) {
	if perMinute < 0 {
		return nil, nil
	}
	return ratelimit.NewMemory(ratelimit.MemoryOptions{PerMinute: perMinute, Now: now})
}

// allow asks l (nil: no limit) whether key may go on; a failing limiter
// lets the request through, as the gateway's own limiter does.
func (s *Server) allow(ctx context.Context, l ratelimit.Limiter, what, key string) error {
	if l == nil {
		return nil
	}
	d, err := l.Allow(ctx, key)
	if err != nil {
		s.log.WarnContext(ctx, "rate limiter failed; request allowed", "what", what, "err", err)
		return nil
	}
	if !d.Allowed {
		s.log.InfoContext(ctx, "rate limited", "what", what, "key", key)
		return errRateLimited{retry: d.RetryAfter}
	}
	return nil
}

// writeRateLimited answers 429 with Retry-After (RFC 6585 §4) and an
// OAuth-shaped error body.
func writeRateLimited(w http.ResponseWriter, e errRateLimited, desc string) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(e.retry.Seconds())))))
	writeError(w, oauthErr(http.StatusTooManyRequests, "too_many_requests", desc))
}

// clientIP is the limiting key of a request: the peer's address. Behind a
// reverse proxy every client shares the proxy's address, so the limit
// applies to all of them together.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// cimdHost is the limiting key of a document fetch: the URL's host.
func cimdHost(id string) string {
	u, err := url.Parse(id)
	if err != nil {
		return id
	}
	return u.Hostname()
}

// storedClient returns a client registered in the store (not a CIMD
// document), forgetting a dynamic client idle for longer than
// ClientIdleTTL (it is then unknown) and recording its use otherwise.
func (s *Server) storedClient(ctx context.Context, id string) (Client, error) {
	c, err := s.store.Client(ctx, id)
	if err != nil {
		return Client{}, err
	}
	now := s.o.Now()
	if clientIdle(c, now, s.o.ClientIdleTTL) {
		s.log.InfoContext(ctx, "idle dynamic client forgotten", "client_id", c.ID)
		if a, ok := s.store.(AdminStore); ok {
			if err := RevokeClient(ctx, a, c.ID); err != nil {
				s.log.ErrorContext(ctx, "forgetting idle client", "err", err)
			}
		}
		return Client{}, ErrNotFound
	}
	if !c.Static && !c.CIMD && s.o.ClientIdleTTL > 0 && now.Sub(c.LastUsed) > clientTouchEvery {
		c.LastUsed = now
		if err := s.store.PutClient(ctx, c); err != nil {
			s.log.WarnContext(ctx, "recording client use", "err", err)
		}
	}
	return c, nil
}

// sweepIdleClients deletes the dynamic clients idle for longer than
// ClientIdleTTL (with the sweep of expired records).
func (s *Server) sweepIdleClients(ctx context.Context, now time.Time) (int, error) {
	a, ok := s.store.(AdminStore)
	if !ok || s.o.ClientIdleTTL <= 0 {
		return 0, nil
	}
	cs, err := a.Clients(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range cs {
		if clientIdle(c, now, s.o.ClientIdleTTL) {
			if err := RevokeClient(ctx, a, c.ID); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}
