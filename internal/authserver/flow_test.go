package authserver

import (
	"net/http"
	"net/url"
	"testing"

	"golang.org/x/oauth2"

	"github.com/mcpgate/mcpgate/internal/principal"
)

// TestFlow runs the whole authorization against a real upstream provider:
// consent, upstream login, code, tokens, refresh rotation, revocation.
func TestFlow(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	verifier := oauth2.GenerateVerifier()
	code := h.code("static-client", verifier, "alice")
	status, tok := h.redeem("static-client", code, verifier)
	if status != 200 || tok["token_type"] != "Bearer" || tok["scope"] != "mcp" {
		t.Fatalf("token: got %d %v", status, tok)
	}
	p, ok := h.verify(tok["access_token"])
	want := principal.Principal{Issuer: h.as.o.Upstream.Issuer, Subject: "alice",
		Name: "alice@example.com", Role: principal.RoleAdmin, Scopes: []string{"mcp"}, ClientID: "static-client"}
	if !ok || p.Subject != want.Subject || p.Issuer != want.Issuer || p.Name != want.Name || p.Role != want.Role || p.ClientID != want.ClientID {
		t.Fatalf("principal: got %+v (ok %v), want %+v", p, ok, want)
	}

	// The upstream tokens are kept, sealed, and never handed out.
	g, err := h.store.Grant(t.Context(), mustTokenGrant(t, h, tok["access_token"]))
	if err != nil || len(g.Upstream) == 0 {
		t.Fatalf("grant: %v, upstream sealed %d bytes", err, len(g.Upstream))
	}
	if _, err := h.as.seal.open(g.Upstream, g.ID); err != nil {
		t.Errorf("opening the sealed upstream tokens: %v", err)
	}
	if _, err := h.as.seal.open(g.Upstream, "another-grant"); err == nil {
		t.Error("sealed upstream tokens open under another grant")
	}

	// Refresh: rotated; the old one reused revokes the grant.
	status, tok2 := h.refresh("static-client", tok["refresh_token"].(string))
	if status != 200 || tok2["refresh_token"] == tok["refresh_token"] || tok2["access_token"] == tok["access_token"] {
		t.Fatalf("refresh: got %d %v", status, tok2)
	}
	if _, ok := h.verify(tok2["access_token"]); !ok {
		t.Fatal("refreshed access token is not valid")
	}
	status, e := h.refresh("static-client", tok["refresh_token"].(string))
	if status != 400 || e["error"] != "invalid_grant" {
		t.Fatalf("refresh reuse: got %d %v, want 400 invalid_grant", status, e)
	}
	for _, at := range []any{tok["access_token"], tok2["access_token"]} {
		if _, ok := h.verify(at); ok {
			t.Error("an access token of a grant revoked by refresh reuse is still valid")
		}
	}
	if status, e := h.refresh("static-client", tok2["refresh_token"].(string)); status != 400 || e["error"] != "invalid_grant" {
		t.Errorf("newest refresh token after reuse: got %d %v, want invalid_grant", status, e)
	}

	// Bob is mapped to readonly; revoking his refresh token revokes all.
	verifier = oauth2.GenerateVerifier()
	_, tok = h.redeem("static-client", h.code("static-client", verifier, "bob"), verifier)
	if p, ok := h.verify(tok["access_token"]); !ok || p.Role != principal.RoleReadOnly {
		t.Fatalf("bob: got %+v (ok %v), want role readonly", p, ok)
	}
	resp, err := http.PostForm(h.srv.URL+"/revoke", url.Values{"client_id": {"static-client"}, "token": {tok["refresh_token"].(string)}})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("revoke: %v %v", resp, err)
	}
	resp.Body.Close()
	if _, ok := h.verify(tok["access_token"]); ok {
		t.Error("access token valid after its refresh token was revoked")
	}
}

func mustTokenGrant(t *testing.T, h *harness, at any) string {
	t.Helper()
	rec, err := h.store.Token(t.Context(), hashKey(at.(string)))
	if err != nil {
		t.Fatal(err)
	}
	return rec.GrantID
}
