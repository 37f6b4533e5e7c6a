// Package storetest is the contract test suite every authserver.Store
// backend must pass: memory, file (bbolt) and Redis run the same cases,
// including the AdminStore half (listing, deleting clients, revocation).
package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpgate/mcpgate/internal/authserver"
)

// Run runs the contract suite; newStore returns an empty store for each
// case (and arranges its closing with t.Cleanup).
func Run(t *testing.T, newStore func(t *testing.T) authserver.Store) {
	at := time.Unix(1_900_000_000, 0).UTC()
	ctx := context.Background()
	t.Run("clients", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.Client(ctx, "c1"); !errors.Is(err, authserver.ErrNotFound) {
			t.Fatalf("missing client: got %v, want ErrNotFound", err)
		}
		c := authserver.Client{ID: "c1", Name: "one", RedirectURIs: []string{"https://a.example/cb"}, AuthMethod: "none", CreatedAt: at}
		must(t, s.PutClient(ctx, c))
		got, err := s.Client(ctx, "c1")
		must(t, err)
		if d := cmp.Diff(c, got); d != "" {
			t.Errorf("client (-want +got):\n%s", d)
		}
		got.RedirectURIs[0] = "https://evil.example/cb"
		again, _ := s.Client(ctx, "c1")
		if again.RedirectURIs[0] != "https://a.example/cb" {
			t.Error("a returned record shares memory with the store")
		}
		c.Name = "renamed"
		must(t, s.PutClient(ctx, c))
		if got, _ := s.Client(ctx, "c1"); got.Name != "renamed" {
			t.Errorf("replace: got %q", got.Name)
		}
	})
	t.Run("authorizations are taken once", func(t *testing.T) {
		s := newStore(t)
		a := authserver.Authorization{ClientID: "c1", RedirectURI: "https://a.example/cb", Scopes: []string{"mcp"}, BrowserHash: "b", ExpiresAt: at}
		must(t, s.PutAuthorization(ctx, "k", a))
		got, err := s.TakeAuthorization(ctx, "k")
		must(t, err)
		if d := cmp.Diff(a, got); d != "" {
			t.Errorf("authorization (-want +got):\n%s", d)
		}
		if _, err := s.TakeAuthorization(ctx, "k"); !errors.Is(err, authserver.ErrNotFound) {
			t.Errorf("second take: got %v, want ErrNotFound", err)
		}
	})
	t.Run("codes are spent once", func(t *testing.T) {
		s := newStore(t)
		c := authserver.Code{ClientID: "c1", GrantID: "g1", Scopes: []string{"mcp"}, ExpiresAt: at}
		must(t, s.PutCode(ctx, "k", c))
		got, err := s.SpendCode(ctx, "k")
		must(t, err)
		if d := cmp.Diff(c, got); d != "" {
			t.Errorf("code (-want +got):\n%s", d)
		}
		got, err = s.SpendCode(ctx, "k")
		if !errors.Is(err, authserver.ErrSpent) || got.GrantID != "g1" {
			t.Errorf("second spend: got %+v, %v; want the record and ErrSpent", got, err)
		}
		if _, err := s.SpendCode(ctx, "other"); !errors.Is(err, authserver.ErrNotFound) {
			t.Errorf("unknown code: got %v, want ErrNotFound", err)
		}
	})
	t.Run("concurrent spends: one wins", func(t *testing.T) {
		s := newStore(t)
		must(t, s.PutToken(ctx, "rt", authserver.Token{Kind: authserver.KindRefresh, GrantID: "g1", ExpiresAt: at}))
		must(t, s.PutCode(ctx, "code", authserver.Code{GrantID: "g1", ExpiresAt: at}))
		const n = 16
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := map[string]int{}
		for range n {
			wg.Go(func() {
				_, errT := s.SpendToken(ctx, "rt")
				_, errC := s.SpendCode(ctx, "code")
				mu.Lock()
				defer mu.Unlock()
				if errT == nil {
					won["token"]++
				}
				if errC == nil {
					won["code"]++
				}
			})
		}
		wg.Wait()
		if won["token"] != 1 || won["code"] != 1 {
			t.Errorf("winners: %v, want one each", won)
		}
	})
	t.Run("grants", func(t *testing.T) {
		s := newStore(t)
		g := authserver.Grant{ID: "g1", ClientID: "c1", Identity: authserver.Identity{Issuer: "https://idp", Subject: "alice", Groups: []string{"admins"}},
			Resource: "https://gw/mcp", Scopes: []string{"mcp"}, Upstream: []byte{1, 2, 3}, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
		must(t, s.PutGrant(ctx, g))
		got, err := s.Grant(ctx, "g1")
		must(t, err)
		if d := cmp.Diff(g, got); d != "" {
			t.Errorf("grant (-want +got):\n%s", d)
		}
		must(t, s.DeleteGrant(ctx, "g1"))
		if _, err := s.Grant(ctx, "g1"); !errors.Is(err, authserver.ErrNotFound) {
			t.Errorf("deleted grant: got %v, want ErrNotFound", err)
		}
		must(t, s.DeleteGrant(ctx, "g1"))
	})
	t.Run("tokens", func(t *testing.T) {
		s := newStore(t)
		tok := authserver.Token{Kind: authserver.KindAccess, GrantID: "g1", ClientID: "c1", Resource: "https://gw/mcp", Scopes: []string{"mcp"}, ExpiresAt: at}
		must(t, s.PutToken(ctx, "k", tok))
		got, err := s.Token(ctx, "k")
		must(t, err)
		if d := cmp.Diff(tok, got); d != "" {
			t.Errorf("token (-want +got):\n%s", d)
		}
		if _, err := s.SpendToken(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Token(ctx, "k"); !got.Spent {
			t.Error("a spent token does not read as spent")
		}
		must(t, s.DeleteToken(ctx, "k"))
		if _, err := s.Token(ctx, "k"); !errors.Is(err, authserver.ErrNotFound) {
			t.Errorf("deleted token: got %v, want ErrNotFound", err)
		}
		must(t, s.DeleteToken(ctx, "k"))
		if _, err := s.SpendToken(ctx, "k"); !errors.Is(err, authserver.ErrNotFound) {
			t.Errorf("spend deleted token: got %v, want ErrNotFound", err)
		}
	})
	t.Run("sweep removes what expired", func(t *testing.T) {
		s := newStore(t)
		before, after := at.Add(-time.Second), at.Add(time.Second)
		must(t, s.PutClient(ctx, authserver.Client{ID: "c1", CreatedAt: before}))
		must(t, s.PutAuthorization(ctx, "a-old", authserver.Authorization{ExpiresAt: before}))
		must(t, s.PutAuthorization(ctx, "a-new", authserver.Authorization{ExpiresAt: after}))
		must(t, s.PutCode(ctx, "c-old", authserver.Code{ExpiresAt: before}))
		must(t, s.PutCode(ctx, "c-new", authserver.Code{ExpiresAt: after}))
		must(t, s.PutGrant(ctx, authserver.Grant{ID: "g-old", ExpiresAt: before}))
		must(t, s.PutGrant(ctx, authserver.Grant{ID: "g-new", ExpiresAt: after}))
		must(t, s.PutToken(ctx, "t-old", authserver.Token{ExpiresAt: before}))
		must(t, s.PutToken(ctx, "t-new", authserver.Token{ExpiresAt: after}))
		n, err := s.Sweep(ctx, at)
		must(t, err)
		if n != 4 {
			t.Errorf("swept %d, want 4", n)
		}
		if _, err := s.Client(ctx, "c1"); err != nil {
			t.Errorf("client swept: %v", err)
		}
		if _, err := s.TakeAuthorization(ctx, "a-old"); !errors.Is(err, authserver.ErrNotFound) {
			t.Errorf("expired authorization kept: %v", err)
		}
		if _, err := s.TakeAuthorization(ctx, "a-new"); err != nil {
			t.Errorf("live authorization swept: %v", err)
		}
		if _, err := s.SpendCode(ctx, "c-old"); !errors.Is(err, authserver.ErrNotFound) {
			t.Errorf("expired code kept: %v", err)
		}
		if _, err := s.SpendCode(ctx, "c-new"); err != nil {
			t.Errorf("live code swept: %v", err)
		}
		if _, err := s.Grant(ctx, "g-old"); !errors.Is(err, authserver.ErrNotFound) {
			t.Errorf("expired grant kept: %v", err)
		}
		if _, err := s.Grant(ctx, "g-new"); err != nil {
			t.Errorf("live grant swept: %v", err)
		}
		if _, err := s.Token(ctx, "t-old"); !errors.Is(err, authserver.ErrNotFound) {
			t.Errorf("expired token kept: %v", err)
		}
		if _, err := s.Token(ctx, "t-new"); err != nil {
			t.Errorf("live token swept: %v", err)
		}
	})
	runAdmin(t, newStore)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
