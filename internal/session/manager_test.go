package session_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mcpgate/mcpgate/internal/logtest"

	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/session"
)

var alice = principal.Principal{Issuer: "static", Subject: "alice"}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := session.NewID()
		if len(id) < 22 { // 128 bits in base64
			t.Fatalf("NewID() = %q: too short for 128 bits", id)
		}
		if !session.ValidID(id) {
			t.Fatalf("NewID() = %q: not a valid ID", id)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
	}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"abc", true},
		{"!~", true},
		{"", false},
		{"a b", false},
		{"a\tb", false},
		{"a\x7f", false},
		{"é", false},
		{strings.Repeat("a", session.MaxIDLen), true},
		{strings.Repeat("a", session.MaxIDLen+1), false},
	}
	for _, tt := range tests {
		if got := session.ValidID(tt.id); got != tt.want {
			t.Errorf("ValidID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestManagerLimit(t *testing.T) {
	m := session.NewManager(session.NewMemoryStore(), session.Config{MaxSessions: 2})
	defer m.Close()
	ctx := t.Context()
	var ids []string
	for range 2 {
		s, err := m.Create(ctx, session.Session{Principal: alice, Transport: "streamable"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	if _, err := m.Create(ctx, session.Session{Principal: alice}); !errors.Is(err, session.ErrLimit) {
		t.Fatalf("Create on a full gateway: got %v, want ErrLimit", err)
	}
	for _, id := range ids {
		if _, err := m.Get(ctx, id); err != nil {
			t.Errorf("live session %s after a refused Create: %v", id, err)
		}
	}
	if err := m.Delete(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Create(ctx, session.Session{Principal: alice}); err != nil {
		t.Errorf("Create after a Delete freed a slot: %v", err)
	}
}

func TestManagerGetInvalidID(t *testing.T) {
	m := session.NewManager(session.NewMemoryStore(), session.Config{})
	defer m.Close()
	for _, id := range []string{"", "a b", strings.Repeat("x", 200)} {
		if _, err := m.Get(t.Context(), id); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("Get(%q): got %v, want ErrNotFound", id, err)
		}
	}
}

// expiries records OnExpire calls.
type expiries struct {
	mu  sync.Mutex
	ids []string
}

func (e *expiries) record(s *session.Session, r session.ExpireReason) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ids = append(e.ids, s.ID+":"+string(r))
}

func (e *expiries) get() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.ids...)
}

func TestManagerSweeperExpiresIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs syncBuffer
		var exp expiries
		m := session.NewManager(session.NewMemoryStore(), session.Config{
			OnExpire: exp.record,
			Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
		})
		defer m.Close()
		ctx := context.Background()
		idle, err := m.Create(ctx, session.Session{Principal: alice})
		if err != nil {
			t.Fatal(err)
		}
		busy, err := m.Create(ctx, session.Session{Principal: alice})
		if err != nil {
			t.Fatal(err)
		}

		time.Sleep(29 * time.Minute)
		synctest.Wait()
		if got := exp.get(); len(got) != 0 {
			t.Fatalf("expired before the idle timeout: %v", got)
		}
		if err := m.Touch(ctx, busy.ID); err != nil {
			t.Fatal(err)
		}

		// Default sweep interval: IdleTimeout/10 capped at a minute.
		time.Sleep(2*time.Minute + time.Second)
		synctest.Wait()
		if got, want := exp.get(), []string{idle.ID + ":idle"}; !equal(got, want) {
			t.Fatalf("OnExpire calls: got %v, want %v", got, want)
		}
		if _, err := m.Get(ctx, idle.ID); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("Get of the expired session: got %v, want ErrNotFound", err)
		}
		if _, err := m.Get(ctx, busy.ID); err != nil {
			t.Errorf("Get of the touched session: %v", err)
		}
		if !strings.Contains(logs.String(), `msg="session expired"`) || !strings.Contains(logs.String(), "reason=idle") {
			t.Errorf("expiry not logged with its reason; log:\n%s", logs.String())
		}
		if strings.Contains(logs.String(), idle.ID) {
			t.Errorf("log holds the full session ID; log:\n%s", logs.String())
		}

		time.Sleep(31 * time.Minute)
		synctest.Wait()
		if got := exp.get(); len(got) != 2 || got[1] != busy.ID+":idle" {
			t.Errorf("OnExpire calls after the second idle period: got %v", got)
		}
	})
}

func TestManagerGetExpiresLazily(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var exp expiries
		m := session.NewManager(session.NewMemoryStore(), session.Config{
			IdleTimeout:   time.Minute,
			SweepInterval: time.Hour,
			OnExpire:      exp.record,
		})
		defer m.Close()
		ctx := context.Background()
		s, err := m.Create(ctx, session.Session{Principal: alice})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute + time.Second)
		if _, err := m.Get(ctx, s.ID); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("Get after the idle timeout, before a sweep: got %v, want ErrNotFound", err)
		}
		if got, want := exp.get(), []string{s.ID + ":idle"}; !equal(got, want) {
			t.Fatalf("OnExpire calls: got %v, want %v", got, want)
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		if got := exp.get(); len(got) != 1 {
			t.Errorf("the sweeper reported the expiry again: %v", got)
		}
		if n, _ := m.Count(ctx); n != 0 {
			t.Errorf("Count: got %d, want 0", n)
		}
	})
}

func TestManagerNoExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := session.NewManager(session.NewMemoryStore(), session.Config{IdleTimeout: -1})
		defer m.Close()
		s, err := m.Create(context.Background(), session.Session{Principal: alice})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(1000 * time.Hour)
		if _, err := m.Get(context.Background(), s.ID); err != nil {
			t.Errorf("Get with idle expiry disabled: %v", err)
		}
	})
}

func TestManagerCloseIsIdempotent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := session.NewManager(session.NewMemoryStore(), session.Config{})
		m.Close()
		m.Close()
	})
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// syncBuffer collects logs for tests to search.
type syncBuffer = logtest.Sink

func TestManagerMarkUsed(t *testing.T) {
	tests := []struct {
		name      string
		idle      time.Duration
		since     time.Duration // from the last write of LastActive to MarkUsed
		wantTouch bool
	}{
		{"busy session, within a second", time.Hour, 500 * time.Millisecond, false},
		{"after a second", time.Hour, 1001 * time.Millisecond, true},
		{"short idle timeout: a sixty-fourth of it", 64 * time.Millisecond, 2 * time.Millisecond, true},
		{"short idle timeout, within the granularity", 64 * time.Second, 900 * time.Millisecond, false},
		{"no idle expiry", -1, 2 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m := session.NewManager(session.NewMemoryStore(), session.Config{IdleTimeout: tt.idle, SweepInterval: time.Hour})
				defer m.Close()
				ctx := context.Background()
				created, err := m.Create(ctx, session.Session{Principal: alice})
				if err != nil {
					t.Fatal(err)
				}
				time.Sleep(tt.since)
				s, err := m.Get(ctx, created.ID)
				if err != nil {
					t.Fatal(err)
				}
				if err := m.MarkUsed(ctx, s); err != nil {
					t.Fatal(err)
				}
				got, err := m.Get(ctx, created.ID)
				if err != nil {
					t.Fatal(err)
				}
				want := created.LastActive
				if tt.wantTouch {
					want = created.LastActive.Add(tt.since)
				}
				if !got.LastActive.Equal(want) {
					t.Errorf("LastActive: got %v after creation, want %v", got.LastActive.Sub(created.LastActive), want.Sub(created.LastActive))
				}
			})
		})
	}
}
