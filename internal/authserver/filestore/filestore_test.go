package filestore

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/mcpgate/mcpgate/internal/authserver"
	"github.com/mcpgate/mcpgate/internal/authserver/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) authserver.Store {
		s, err := Open(filepath.Join(t.TempDir(), "oauth.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestPersists: state survives closing and reopening the file.
func TestPersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "oauth.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.PutToken(ctx, "k", authserver.Token{Kind: authserver.KindRefresh, GrantID: "g"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SpendToken(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if tok, err := s.SpendToken(ctx, "k"); err != authserver.ErrSpent || tok.GrantID != "g" {
		t.Errorf("after reopen: got %+v, %v; want the spent token", tok, err)
	}
}
