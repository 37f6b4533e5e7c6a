package sessiontest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/session"
)

// owned returns a sample session of the user named sub.
func owned(id, sub string) *session.Session {
	s := sample(id, t0)
	s.Principal = principal.Principal{Issuer: "static", Subject: sub, Name: sub}
	return s
}

// testPrincipalLimit checks PrincipalLimiter, for stores that implement it.
func testPrincipalLimit(t *testing.T, st session.Store) {
	pl, ok := st.(session.PrincipalLimiter)
	if !ok {
		t.Skip("store does not implement session.PrincipalLimiter")
	}
	create := func(id, sub string) error { return pl.CreateLimited(ctx, owned(id, sub), 10, 2) }
	for _, id := range []string{"a1", "a2"} {
		if err := create(id, "alice"); err != nil {
			t.Fatal(err)
		}
	}
	err := create("a3", "alice")
	if !errors.Is(err, session.ErrPrincipalLimit) || !errors.Is(err, session.ErrLimit) {
		t.Fatalf("third session of alice: got %v, want ErrPrincipalLimit (and ErrLimit)", err)
	}
	if err := create("b1", "bob"); err != nil {
		t.Fatalf("bob is limited by alice's sessions: %v", err)
	}
	// The same subject at another issuer is another principal.
	other := owned("x1", "alice")
	other.Principal.Issuer = "https://idp.example"
	if err := pl.CreateLimited(ctx, other, 10, 2); err != nil {
		t.Fatalf("alice at another issuer: %v", err)
	}
	// Deleting and expiring free a principal's slots.
	if err := st.Delete(ctx, "a1"); err != nil {
		t.Fatal(err)
	}
	if err := create("a3", "alice"); err != nil {
		t.Fatalf("after a delete: %v", err)
	}
	if _, err := st.Expire(ctx, t0.Add(1), 0); err != nil { // expires every session
		t.Fatal(err)
	}
	for _, id := range []string{"a4", "a5"} {
		if err := create(id, "alice"); err != nil {
			t.Fatalf("after expiry: %v", err)
		}
	}
	// The global limit still applies, and both checks are atomic: of many
	// concurrent creators for one principal's last slot, one wins.
	if err := st.Delete(ctx, "a4"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range 16 {
		wg.Go(func() {
			err := create(fmt.Sprintf("c%d", i), "alice")
			if err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, session.ErrPrincipalLimit) {
				t.Errorf("CreateLimited: %v", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("concurrent creators for one free slot: %d won, want 1", wins)
	}
	if err := pl.CreateLimited(ctx, owned("g", "carol"), 2, 2); !errors.Is(err, session.ErrLimit) || errors.Is(err, session.ErrPrincipalLimit) {
		t.Errorf("global limit: got %v, want ErrLimit only", err)
	}
}
