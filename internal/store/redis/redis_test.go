package redis

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mcpgate/mcpgate/internal/authserver"
	"github.com/mcpgate/mcpgate/internal/authserver/storetest"
	"github.com/mcpgate/mcpgate/internal/store/redis/redistest"
)

// open dials url and returns an OAuth store on it; the client is closed
// at cleanup.
func open(t *testing.T, url string, opts *OAuthOptions) *OAuthStore {
	t.Helper()
	c, err := Dial(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return NewOAuthStore(c, opts)
}

// TestContract runs the shared suite against a real redis-server; each
// case gets its own key prefix on the one server.
func TestContract(t *testing.T) {
	url := redistest.Start(t)
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) authserver.Store {
		return open(t, url, &OAuthOptions{Prefix: "case" + strconv.FormatInt(n.Add(1), 10) + ":"})
	})
}

// raw is a plain client on the test server, to look at keys directly.
func raw(t *testing.T, url string) *goredis.Client {
	t.Helper()
	o, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(o)
	t.Cleanup(func() { c.Close() })
	return c
}

// TestKeysAndTTL: records live under the namespaced keys with the TTL of
// their expiry; clients have none; an already expired record is never
// visible.
func TestKeysAndTTL(t *testing.T) {
	url := redistest.Start(t)
	s := open(t, url, nil)
	r := raw(t, url)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	must(t, s.PutClient(ctx, authserver.Client{ID: "c1"}))
	must(t, s.PutAuthorization(ctx, "a1", authserver.Authorization{ExpiresAt: exp}))
	must(t, s.PutCode(ctx, "k1", authserver.Code{ExpiresAt: exp}))
	must(t, s.PutGrant(ctx, authserver.Grant{ID: "g1", ExpiresAt: exp}))
	must(t, s.PutToken(ctx, "t1", authserver.Token{ExpiresAt: exp}))
	tests := []struct {
		key     string
		wantTTL bool
	}{
		{"mcpgate:oauth:client:c1", false},
		{"mcpgate:oauth:authorization:a1", true},
		{"mcpgate:oauth:code:k1", true},
		{"mcpgate:oauth:grant:g1", true},
		{"mcpgate:oauth:token:t1", true},
	}
	for _, tc := range tests {
		ttl, err := r.PTTL(ctx, tc.key).Result()
		must(t, err)
		switch {
		case ttl == -2*time.Nanosecond || ttl == -2*time.Millisecond:
			t.Errorf("%s: missing", tc.key)
		case !tc.wantTTL && ttl >= 0:
			t.Errorf("%s: TTL %v, want none", tc.key, ttl)
		case tc.wantTTL && (ttl < 59*time.Minute || ttl > time.Hour):
			t.Errorf("%s: TTL %v, want about 1h", tc.key, ttl)
		}
	}
	if n, _ := r.ZCard(ctx, "mcpgate:oauth:expiry").Result(); n != 4 {
		t.Errorf("expiry index holds %d keys, want 4", n)
	}

	// Spending keeps the TTL.
	if _, err := s.SpendToken(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	if ttl, _ := r.PTTL(ctx, "mcpgate:oauth:token:t1").Result(); ttl < 59*time.Minute {
		t.Errorf("TTL after spend: %v, want about 1h", ttl)
	}

	past := time.Now().Add(-time.Minute)
	must(t, s.PutToken(ctx, "old", authserver.Token{ExpiresAt: past}))
	if _, err := s.Token(ctx, "old"); !errors.Is(err, authserver.ErrNotFound) {
		t.Errorf("expired token: got %v, want ErrNotFound", err)
	}
	// Its index entry goes at the next sweep, without counting.
	n, err := s.Sweep(ctx, time.Now())
	must(t, err)
	if n != 0 {
		t.Errorf("swept %d, want 0", n)
	}
	if n, _ := r.ZCard(ctx, "mcpgate:oauth:expiry").Result(); n != 4 {
		t.Errorf("expiry index holds %d keys after sweep, want 4", n)
	}
}

// TestReplicas: two stores on one Redis are two replicas: what one writes
// the other reads, and a refresh token or code shared by both is spent
// exactly once.
func TestReplicas(t *testing.T) {
	url := redistest.Start(t)
	a, b := open(t, url, nil), open(t, url, nil)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	must(t, a.PutGrant(ctx, authserver.Grant{ID: "g1", ClientID: "c1", ExpiresAt: exp}))
	if g, err := b.Grant(ctx, "g1"); err != nil || g.ClientID != "c1" {
		t.Fatalf("grant on the other replica: %+v, %v", g, err)
	}
	for i := range 20 {
		key := "rt" + strconv.Itoa(i)
		must(t, a.PutToken(ctx, key, authserver.Token{Kind: authserver.KindRefresh, GrantID: "g1", ExpiresAt: exp}))
		must(t, a.PutCode(ctx, key, authserver.Code{GrantID: "g1", ExpiresAt: exp}))
		var wg sync.WaitGroup
		var wins, spent atomic.Int32
		for _, s := range []*OAuthStore{a, b, a, b} {
			wg.Go(func() {
				for _, err := range []error{
					func() error { _, err := s.SpendToken(ctx, key); return err }(),
					func() error { _, err := s.SpendCode(ctx, key); return err }(),
				} {
					switch {
					case err == nil:
						wins.Add(1)
					case errors.Is(err, authserver.ErrSpent):
						spent.Add(1)
					default:
						t.Errorf("spend: %v", err)
					}
				}
			})
		}
		wg.Wait()
		if wins.Load() != 2 || spent.Load() != 6 {
			t.Fatalf("round %d: %d wins, %d spent; want 2 and 6", i, wins.Load(), spent.Load())
		}
	}
	must(t, b.DeleteGrant(ctx, "g1"))
	if _, err := a.Grant(ctx, "g1"); !errors.Is(err, authserver.ErrNotFound) {
		t.Errorf("grant deleted on the other replica: got %v, want ErrNotFound", err)
	}
}

// TestErrors: a failing Redis surfaces as authserver.ErrUnavailable and
// nothing from go-redis; a bad URL fails Open without quoting it.
func TestErrors(t *testing.T) {
	url := redistest.Start(t)
	c, err := Dial(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := NewOAuthStore(c, nil)
	ctx := context.Background()
	must(t, c.Close())
	checks := map[string]error{
		"put":   s.PutToken(ctx, "k", authserver.Token{ExpiresAt: time.Now().Add(time.Hour)}),
		"get":   func() error { _, err := s.Token(ctx, "k"); return err }(),
		"spend": func() error { _, err := s.SpendCode(ctx, "k"); return err }(),
		"sweep": func() error { _, err := s.Sweep(ctx, time.Now()); return err }(),
	}
	for name, err := range checks {
		if !errors.Is(err, authserver.ErrUnavailable) || errors.Is(err, goredis.ErrClosed) {
			t.Errorf("%s on a closed store: got %v, want only ErrUnavailable", name, err)
		}
	}

	_, err = Dial(ctx, "unix:///nonexistent/redis.sock", &Options{DialTimeout: time.Second})
	if !errors.Is(err, authserver.ErrUnavailable) {
		t.Errorf("open unreachable: got %v, want ErrUnavailable", err)
	}
	_, err = Dial(ctx, "redis://user:hunter2@[::1", nil)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("open bad URL: got %v, want an error without the password", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
