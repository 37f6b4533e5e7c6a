package ratelimit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/metrics"
	"github.com/mcpgate/mcpgate/internal/principal"
)

// clock is a manual clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newMemory(t *testing.T, opts MemoryOptions) (*Memory, *clock) {
	t.Helper()
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	opts.Now = c.now
	m, err := NewMemory(opts)
	if err != nil {
		t.Fatal(err)
	}
	return m, c
}

func TestMemoryBucket(t *testing.T) {
	m, c := newMemory(t, MemoryOptions{PerMinute: 60, Burst: 3})
	ctx := context.Background()
	type call struct {
		advance time.Duration
		key     string
		allowed bool
	}
	steps := []call{
		{0, "alice", true},
		{0, "alice", true},
		{0, "alice", true},
		{0, "alice", false},                      // burst used up; one token per second
		{0, "bob", true},                         // keys are independent
		{500 * time.Millisecond, "alice", false}, // half a token
		{500 * time.Millisecond, "alice", true},  // one token
		{0, "alice", false},
		{time.Hour, "alice", true}, // refilled, capped at the burst
		{0, "alice", true},
		{0, "alice", true},
		{0, "alice", false},
	}
	for i, st := range steps {
		c.advance(st.advance)
		d, err := m.Allow(ctx, st.key)
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed != st.allowed {
			t.Fatalf("step %d (%s): allowed %v, want %v", i, st.key, d.Allowed, st.allowed)
		}
		if !d.Allowed && (d.RetryAfter <= 0 || d.RetryAfter > time.Second) {
			t.Errorf("step %d: RetryAfter %v, want in (0, 1s]", i, d.RetryAfter)
		}
	}
}

func TestMemoryForgetsIdleKeysAndBoundsKeys(t *testing.T) {
	m, c := newMemory(t, MemoryOptions{PerMinute: 60, MaxKeys: 1100})
	ctx := context.Background()
	for i := range 1100 {
		if d, _ := m.Allow(ctx, fmt.Sprint("k", i)); !d.Allowed {
			t.Fatalf("key %d refused", i)
		}
	}
	// Full, and no key has refilled: a new key is refused, a known one not.
	if d, _ := m.Allow(ctx, "new"); d.Allowed || d.RetryAfter != time.Minute {
		t.Errorf("new key on a full limiter: %+v", d)
	}
	if d, _ := m.Allow(ctx, "k7"); !d.Allowed {
		t.Errorf("known key refused on a full limiter")
	}
	// After a minute every bucket is full again; the sweep forgets them.
	c.advance(time.Minute)
	if d, _ := m.Allow(ctx, "new"); !d.Allowed {
		t.Errorf("new key refused after idle keys could be forgotten")
	}
	if n := m.Len(); n != 1 {
		t.Errorf("keys tracked after the sweep: %d, want 1", n)
	}
}

func TestNewMemoryRefuses(t *testing.T) {
	for _, o := range []MemoryOptions{{}, {PerMinute: -1}, {PerMinute: 1, Burst: -1}, {PerMinute: 1, MaxKeys: -1}} {
		if _, err := NewMemory(o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

type brokenLimiter struct{}

func (brokenLimiter) Allow(context.Context, string) (Decision, error) {
	return Decision{}, errors.New("redis down")
}

func TestMiddleware(t *testing.T) {
	m, c := newMemory(t, MemoryOptions{PerMinute: 2})
	refused := metrics.NewRegistry().Counter("rate_limited_total", "")
	withUser := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p := principal.Principal{Issuer: "static", Subject: r.Header.Get("X-User"), Name: r.Header.Get("X-User")}
			next.ServeHTTP(w, r.WithContext(principal.NewContext(r.Context(), p)))
		})
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	srv := httptest.NewServer(withUser(Middleware(m, &MiddlewareOptions{PerMinute: 2, Refused: refused})(ok)))
	defer srv.Close()
	broken := httptest.NewServer(withUser(Middleware(brokenLimiter{}, nil)(ok)))
	defer broken.Close()

	steps := []struct {
		name       string
		url        string
		user       string
		advance    time.Duration
		wantStatus int
		wantRetry  string
	}{
		{"alice 1", srv.URL, "alice", 0, 204, ""},
		{"alice 2", srv.URL, "alice", 0, 204, ""},
		{"alice 3 refused", srv.URL, "alice", 0, 429, "30"},
		{"bob unaffected", srv.URL, "bob", 0, 204, ""},
		{"alice 10s later", srv.URL, "alice", 10 * time.Second, 429, "20"},
		{"alice 20s later", srv.URL, "alice", 20 * time.Second, 204, ""},
		{"limiter failure fails open", broken.URL, "alice", 0, 204, ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			c.advance(st.advance)
			req, _ := http.NewRequest("POST", st.url, nil)
			req.Header.Set("X-User", st.user)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != st.wantStatus || resp.Header.Get("Retry-After") != st.wantRetry {
				t.Fatalf("got %d Retry-After %q, want %d %q; body %s", resp.StatusCode, resp.Header.Get("Retry-After"),
					st.wantStatus, st.wantRetry, body)
			}
			if st.wantStatus == 429 {
				var e struct{ Error, Message string }
				if json.Unmarshal(body, &e) != nil || e.Error != "rate_limited" || e.Message == "" {
					t.Errorf("body: %s", body)
				}
			}
		})
	}
	if refused.Value() != 2 {
		t.Errorf("refused counter: %d, want 2", refused.Value())
	}
}
