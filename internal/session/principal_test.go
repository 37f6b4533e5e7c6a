package session_test

import (
	"errors"
	"testing"

	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/session"
)

func TestManagerPerPrincipalLimit(t *testing.T) {
	m := session.NewManager(session.NewMemoryStore(), session.Config{MaxSessions: 3, MaxSessionsPerPrincipal: 2})
	defer m.Close()
	ctx := t.Context()
	bob := principal.Principal{Issuer: "static", Subject: "bob", Name: "bob"}
	steps := []struct {
		name string
		p    principal.Principal
		want error
	}{
		{"alice 1", alice, nil},
		{"alice 2", alice, nil},
		{"alice 3 over her limit", alice, session.ErrPrincipalLimit},
		{"bob 1", bob, nil},
		{"bob 2 over the global limit", bob, session.ErrLimit},
	}
	for _, st := range steps {
		_, err := m.Create(ctx, session.Session{Principal: st.p})
		if st.want == nil && err != nil || st.want != nil && !errors.Is(err, st.want) {
			t.Fatalf("%s: got %v, want %v", st.name, err, st.want)
		}
		if st.want == session.ErrLimit && errors.Is(err, session.ErrPrincipalLimit) {
			t.Fatalf("%s: got the per-principal error for the global limit", st.name)
		}
	}
	if g, p := m.LimitRefusals(); g != 1 || p != 1 {
		t.Errorf("LimitRefusals: got %d global, %d per principal; want 1, 1", g, p)
	}
}

// FuzzValidID: session IDs come from clients; ValidID must accept exactly
// 1 to MaxIDLen visible ASCII characters, and Get must treat everything
// else as an unknown session without touching the store.
func FuzzValidID(f *testing.F) {
	for _, s := range []string{"", "a", session.NewID(), "a b", "\x00", "ü", "id\r\nX-Injected: 1", string(make([]byte, 129))} {
		f.Add(s)
	}
	m := session.NewManager(session.NewMemoryStore(), session.Config{IdleTimeout: -1})
	f.Cleanup(m.Close)
	f.Fuzz(func(t *testing.T, id string) {
		want := len(id) >= 1 && len(id) <= session.MaxIDLen
		for i := 0; i < len(id); i++ {
			if id[i] < 0x21 || id[i] > 0x7e {
				want = false
			}
		}
		if got := session.ValidID(id); got != want {
			t.Fatalf("ValidID(%q) = %v, want %v", id, got, want)
		}
		if _, err := m.Get(t.Context(), id); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("Get(%q): got %v, want ErrNotFound", id, err)
		}
		if short := session.Short(id); len(short) > len(id) && len(id) <= 8 {
			t.Fatalf("Short(%q) = %q", id, short)
		}
	})
}
