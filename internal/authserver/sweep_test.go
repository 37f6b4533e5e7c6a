package authserver

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestSweep: expired tokens leave the store once the sweep interval has
// passed, not before.
func TestSweep(t *testing.T) {
	now := time.Unix(1_900_000_000, 0)
	store := NewMemoryStore()
	s, err := New(context.Background(), Options{Issuer: "http://127.0.0.1:1", Upstream: Upstream{Issuer: "http://127.0.0.1:2", ClientID: "x"},
		Store: store, SweepInterval: time.Minute, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	store.PutToken(ctx, "old", Token{Kind: KindAccess, ExpiresAt: now.Add(time.Second)})
	now = now.Add(30 * time.Second)
	s.maybeSweep(ctx)
	if _, err := store.Token(ctx, "old"); err != nil {
		t.Fatalf("swept before the interval: %v", err)
	}
	now = now.Add(31 * time.Second)
	s.maybeSweep(ctx)
	if _, err := store.Token(ctx, "old"); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired token kept after the interval: %v", err)
	}
}

// TestIssuerChecks: New refuses issuers that are not absolute https (or
// loopback http) base URLs.
func TestIssuerChecks(t *testing.T) {
	for _, iss := range []string{"", "gw.example", "http://gw.example", "https://gw.example/", "https://gw.example?x=1", "ftp://gw.example"} {
		if _, err := New(context.Background(), Options{Issuer: iss, Upstream: Upstream{Issuer: "https://idp", ClientID: "x"}}); err == nil {
			t.Errorf("issuer %q accepted", iss)
		}
	}
	if _, err := New(context.Background(), Options{Issuer: "https://gw.example", Upstream: Upstream{Issuer: "https://idp", ClientID: "x"},
		Clients: []StaticClient{{ID: "c", RedirectURIs: []string{"http://evil.example/cb"}}}}); err == nil {
		t.Error("a pre-registered client with an http redirect URI was accepted")
	}
}
