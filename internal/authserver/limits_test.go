package authserver

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TestRegisterRateLimit: registrations over the per-address limit get
// 429 with Retry-After and an OAuth error body.
func TestRegisterRateLimit(t *testing.T) {
	t.Parallel()
	s, err := New(context.Background(), Options{Issuer: "http://127.0.0.1:1", Upstream: Upstream{Issuer: "http://127.0.0.1:2", ClientID: "x"},
		RegisterPerMinute: 2})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	for i, want := range []int{201, 201, 429} {
		resp, err := http.Post(srv.URL+"/register", "application/json", strings.NewReader(`{"redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"none"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("registration %d: got %d, want %d", i, resp.StatusCode, want)
		}
		if want == 429 && (resp.Header.Get("Retry-After") == "" || resp.Header.Get("Content-Type") != "application/json") {
			t.Errorf("429 without Retry-After or JSON: %v", resp.Header)
		}
	}
}

// TestCIMDRateLimit: document fetches over the per-host limit are
// refused with 429 (an error page, no redirect), and cached documents do
// not count.
func TestCIMDRateLimit(t *testing.T) {
	t.Parallel()
	docs, fetches := cimdServer(t)
	h := newHarnessWith(t, func(o *Options) {
		o.CIMD = CIMDOptions{InsecureAllowPrivateNetworks: true, RootCAs: rootsOf(docs)}
		o.CIMDFetchesPerMinute = 1
	})
	b := newBrowser(t)
	h.consent(b, h.authorizeURL(docs.URL+"/good", oauth2.GenerateVerifier(), nil)) // fetched
	h.consent(b, h.authorizeURL(docs.URL+"/good", oauth2.GenerateVerifier(), nil)) // cached
	resp, err := b.Get(h.authorizeURL(docs.URL+"/otherredirect", oauth2.GenerateVerifier(), nil))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("second document of the host: got %d, want 429 with Retry-After", resp.StatusCode)
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("/good fetched %d times, want 1", n)
	}
}

// TestIdleClients: a dynamic client unused for longer than ClientIdleTTL
// is forgotten with its grants; use keeps it; static clients stay.
func TestIdleClients(t *testing.T) {
	now := time.Unix(1_900_000_000, 0)
	store := NewMemoryStore()
	s, err := New(context.Background(), Options{Issuer: "http://127.0.0.1:1", Upstream: Upstream{Issuer: "http://127.0.0.1:2", ClientID: "x"},
		Clients: []StaticClient{{ID: "static", RedirectURIs: []string{testRedirect}}},
		Store:   store, ClientIdleTTL: 48 * time.Hour, SweepInterval: time.Minute, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, id := range []string{"used", "idle"} {
		store.PutClient(ctx, Client{ID: id, RedirectURIs: []string{testRedirect}, AuthMethod: "none", CreatedAt: now, LastUsed: now})
	}
	// Registered before use was recorded: kept, and judged from its next use.
	store.PutClient(ctx, Client{ID: "legacy", RedirectURIs: []string{testRedirect}, AuthMethod: "none", CreatedAt: now.Add(-1000 * time.Hour)})
	store.PutGrant(ctx, Grant{ID: "g-idle", ClientID: "idle", ExpiresAt: now.Add(1000 * time.Hour)})
	tokenReq := func(client string) int {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/token", strings.NewReader(url.Values{"grant_type": {"refresh_token"},
			"client_id": {client}, "refresh_token": {"x"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		s.Handler().ServeHTTP(rec, req)
		return rec.Code
	}
	for range 3 {
		now = now.Add(25 * time.Hour)
		// invalid_grant (400) means the client authenticated.
		if got := tokenReq("used"); got != 400 {
			t.Fatalf("used client: got %d, want 400 (known client)", got)
		}
	}
	if got := tokenReq("idle"); got != 401 {
		t.Errorf("idle client: got %d, want 401 invalid_client", got)
	}
	if _, err := store.Grant(ctx, "g-idle"); !errors.Is(err, ErrNotFound) {
		t.Errorf("grant of the idle client: got %v, want ErrNotFound", err)
	}
	// The sweep forgets idle clients nobody asks for.
	store.PutClient(ctx, Client{ID: "forgotten", CreatedAt: now, LastUsed: now})
	now = now.Add(49 * time.Hour)
	s.maybeSweep(ctx)
	for id, want := range map[string]bool{"forgotten": false, "used": false, "static": true, "legacy": true} {
		if _, err := store.Client(ctx, id); (err == nil) != want {
			t.Errorf("client %s after sweep: err %v, want kept %v", id, err, want)
		}
	}
}
