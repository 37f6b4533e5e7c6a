package storetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpgate/mcpgate/internal/authserver"
)

// runAdmin checks the AdminStore half of the contract: listing clients and
// grants, deleting clients, and RevokeGrant forgetting the consent a grant
// was made under.
func runAdmin(t *testing.T, newStore func(t *testing.T) authserver.Store) {
	at := time.Unix(1_900_000_000, 0).UTC()
	ctx := context.Background()
	admin := func(t *testing.T) (authserver.Store, authserver.AdminStore) {
		s := newStore(t)
		a, ok := s.(authserver.AdminStore)
		if !ok {
			t.Fatalf("%T does not implement authserver.AdminStore", s)
		}
		return s, a
	}
	t.Run("admin: list and delete clients", func(t *testing.T) {
		s, a := admin(t)
		if cs, err := a.Clients(ctx); err != nil || len(cs) != 0 {
			t.Fatalf("empty store: got %v, %v", cs, err)
		}
		want := []authserver.Client{
			{ID: "c1", Name: "one", RedirectURIs: []string{"https://a.example/cb"}, AuthMethod: "none", CreatedAt: at},
			{ID: "c2", Name: "two", RedirectURIs: []string{"http://127.0.0.1/cb"}, AuthMethod: "none", CreatedAt: at, LastUsed: at.Add(time.Hour)},
		}
		for _, c := range want {
			must(t, s.PutClient(ctx, c))
		}
		got, err := a.Clients(ctx)
		must(t, err)
		slices.SortFunc(got, func(x, y authserver.Client) int { return strings.Compare(x.ID, y.ID) })
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("clients (-want +got):\n%s", d)
		}
		must(t, a.DeleteClient(ctx, "c1"))
		must(t, a.DeleteClient(ctx, "c1"))
		if _, err := s.Client(ctx, "c1"); !errors.Is(err, authserver.ErrNotFound) {
			t.Errorf("deleted client: got %v, want ErrNotFound", err)
		}
		if got, _ := a.Clients(ctx); len(got) != 1 || got[0].ID != "c2" {
			t.Errorf("after delete: got %v, want c2 only", got)
		}
	})
	t.Run("admin: list grants; revoking forgets the consent", func(t *testing.T) {
		s, a := admin(t)
		id := authserver.Identity{Issuer: "https://idp", Subject: "alice"}
		g := authserver.Grant{ID: "g1", ClientID: "c1", Identity: id, Resource: "https://gw/mcp", Scopes: []string{"mcp", "a"}, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
		c := authserver.Grant{ID: g.ConsentID(), ClientID: "c1", Identity: id, Resource: g.Resource, Scopes: []string{"a", "mcp"}, Consent: true, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
		if c.ConsentID() != c.ID {
			t.Errorf("consent ID depends on the scopes' order: %q vs %q", c.ConsentID(), c.ID)
		}
		other := authserver.Grant{ID: "g2", ClientID: "c2", Identity: id, Resource: g.Resource, Scopes: []string{"mcp"}, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
		for _, x := range []authserver.Grant{g, c, other} {
			must(t, s.PutGrant(ctx, x))
		}
		got, err := a.Grants(ctx)
		must(t, err)
		if len(got) != 3 {
			t.Fatalf("grants: got %d, want 3", len(got))
		}
		must(t, authserver.RevokeGrant(ctx, s, "g1"))
		for _, id := range []string{"g1", c.ID} {
			if _, err := s.Grant(ctx, id); !errors.Is(err, authserver.ErrNotFound) {
				t.Errorf("%s after revoking g1: got %v, want ErrNotFound", id, err)
			}
		}
		if _, err := s.Grant(ctx, "g2"); err != nil {
			t.Errorf("another client's grant: %v", err)
		}
		must(t, authserver.RevokeGrant(ctx, s, "g1")) // missing: no error
		must(t, s.PutClient(ctx, authserver.Client{ID: "c2", CreatedAt: at}))
		must(t, authserver.RevokeClient(ctx, a, "c2"))
		if _, err := s.Grant(ctx, "g2"); !errors.Is(err, authserver.ErrNotFound) {
			t.Errorf("grant of a revoked client: got %v, want ErrNotFound", err)
		}
		if _, err := s.Client(ctx, "c2"); !errors.Is(err, authserver.ErrNotFound) {
			t.Errorf("revoked client: got %v, want ErrNotFound", err)
		}
	})
}
