package authserver

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TestUpstreamToken: the grant's upstream token is handed to the upstream
// layer, refreshed at the real provider once expired, and works there.
func TestUpstreamToken(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, func(o *Options) {
		o.Upstream.Scopes = append(o.Upstream.Scopes, "offline_access")
		o.Upstream.Prompt = "consent" // oidc-provider drops offline_access without it
	})
	verifier := oauth2.GenerateVerifier()
	_, tok := h.redeem("static-client", h.code("static-client", verifier, "alice"), verifier)
	grantID := mustTokenGrant(t, h, tok["access_token"])
	ctx := t.Context()
	first, err := h.as.UpstreamToken(ctx, grantID)
	if err != nil || first.IsZero() {
		t.Fatalf("UpstreamToken: %v", err)
	}
	if first.Reveal() == tok["access_token"] {
		t.Fatal("the upstream token is the client's token")
	}

	// Expire the sealed upstream token; the next call refreshes it.
	expire := func() {
		g, _ := h.store.Grant(ctx, grantID)
		raw, err := h.as.seal.open(g.Upstream, g.ID)
		if err != nil {
			t.Fatal(err)
		}
		var ut upstreamTokens
		json.Unmarshal(raw, &ut)
		if ut.RefreshToken == "" {
			t.Fatal("no upstream refresh token was issued")
		}
		ut.Expiry = time.Now().Add(-time.Minute).Unix()
		raw, _ = json.Marshal(ut)
		g.Upstream = h.as.seal.seal(raw, g.ID)
		h.store.PutGrant(ctx, g)
	}
	expire()
	second, err := h.as.UpstreamToken(ctx, grantID)
	if err != nil || second.Reveal() == first.Reveal() {
		t.Fatalf("refresh: %v (same token: %v)", err, second.Reveal() == first.Reveal())
	}
	p, err := h.as.upstream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ui, err := p.UserInfo(ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: second.Reveal()}))
	if err != nil || ui.Subject != "alice" {
		t.Errorf("the refreshed token at the provider's userinfo: %v, %+v", err, ui)
	}

	// Without a refresh token an expired grant needs a new sign-in.
	g, _ := h.store.Grant(ctx, grantID)
	raw, _ := json.Marshal(upstreamTokens{AccessToken: "x", Expiry: time.Now().Add(-time.Minute).Unix()})
	g.Upstream = h.as.seal.seal(raw, g.ID)
	h.store.PutGrant(ctx, g)
	if _, err := h.as.UpstreamToken(ctx, grantID); !errors.Is(err, ErrUpstreamExpired) {
		t.Errorf("expired without refresh token: got %v, want ErrUpstreamExpired", err)
	}
}
