package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/mcpgate/mcpgate/internal/authserver/oidctest"
	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/secret"
)

// startOAuthGateway starts a gateway in auth mode oauth (upstream groups
// "admins" → admin) in front of a real upstream provider, with its issuer
// on the address it serves, and the demo upstream.
func startOAuthGateway(t *testing.T) *started {
	t.Helper()
	gw, _ := startOAuthGatewayWith(t, oauthGateway{upstreams: demoOnly})
	return gw
}

// oauthGateway configures startOAuthGatewayWith.
type oauthGateway struct {
	oauthExtra string // more auth.oauth keys, indented as its keys
	upstreams  string // the upstreams section
	idp        oidctest.Options
	mutate     func(*config.Config) // if set, runs on the parsed configuration
}

// startOAuthGatewayWith is startOAuthGateway as o says. It also returns
// the provider's issuer.
func startOAuthGatewayWith(t *testing.T, o oauthGateway) (*started, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() }) // also when the provider cannot start
	base := "http://" + ln.Addr().String()
	idp := oidctest.StartWith(t, base+"/callback", o.idp)
	cfg := parseConfig(t, `
auth:
  mode: oauth
  oauth:
    issuer: `+base+`
    upstream: {issuer: "`+idp+`", client_id: `+oidctest.ClientID+`, client_secret: "env:UNUSED", scopes: [openid, email, groups]}
    roles: {admins: admin}
`+o.oauthExtra+o.upstreams)
	cfg.Auth.OAuth.Upstream.Secret = secret.New(oidctest.ClientSecret)
	if o.mutate != nil {
		o.mutate(cfg)
	}

	logs := &logSink{}
	g, err := New(cfg, Options{Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Version: "test"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer scancel()
	if err := g.Start(sctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	front, closeFront := serveFront(t, g, ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = g.hub.Shutdown(ctx)
		closeFront()
		if err := g.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if t.Failed() {
			t.Logf("gateway log:\n%s", logs.String())
		}
	})
	return &started{url: base + "/mcp", base: base, g: g, logs: logs, front: front}, idp
}

// TestOAuthSDKClient is the end-to-end proof with real parts: the official
// Go SDK client does its own OAuth against the gateway (401 challenge,
// metadata discovery, dynamic registration, PKCE, iss check, token
// exchange), the user signs in at a real upstream provider (npm
// oidc-provider) through mcpgate's consent page, and the session then
// works through the gateway to the demo upstream as that user. Access
// tokens live 5 s, inside the oauth2 package's 10 s expiry margin, so the
// client refreshes before every request (each refresh rotates the refresh
// token); revoking the refresh token then ends the grant: the client's
// next refresh and its last access token are both refused.
func TestOAuthSDKClient(t *testing.T) {
	gw, _ := startOAuthGatewayWith(t, oauthGateway{upstreams: demoOnly, oauthExtra: "    access_token_ttl: 5s\n"})
	base, logs := gw.base, gw.logs
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const redirect = "http://127.0.0.1:9/oauth/callback"
	browser := oidctest.NewBrowser()
	var fetched int
	var clientID string
	h, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
			RedirectURIs: []string{redirect}, ClientName: "go-sdk e2e", TokenEndpointAuthMethod: "none",
			GrantTypes: []string{"authorization_code", "refresh_token"},
		}},
		RedirectURL: redirect,
		AuthorizationCodeFetcher: func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
			fetched++
			if fetched > 1 {
				return nil, errors.New("asked to sign in again")
			}
			if !strings.HasPrefix(args.URL, base+"/authorize?") {
				t.Errorf("authorization URL %s is not the gateway's", args.URL)
			}
			if u, err := url.Parse(args.URL); err == nil {
				clientID = u.Query().Get("client_id")
			}
			loc := oidctest.Login(t, browser, args.URL, "alice", redirect)
			q := loc.Query()
			return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "sdk-oauth", Version: "1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: base + "/mcp", OAuthHandler: h}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatalf("connecting with OAuth: %v", err)
	}
	defer cs.Close()
	if err := cs.Ping(ctx, nil); err != nil {
		t.Errorf("ping: %v", err)
	}
	tools, err := cs.ListTools(ctx, nil)
	if err != nil || len(tools.Tools) == 0 {
		t.Errorf("tools/list: %v, %+v", err, tools)
	}
	if fetched != 1 {
		t.Errorf("the user was sent to authorize %d times, want 1", fetched)
	}
	// The gateway logged the grant for alice at the upstream, as admin.
	if l := logs.String(); !strings.Contains(l, `"msg":"authorization granted"`) || !strings.Contains(l, `"sub":"alice"`) || !strings.Contains(l, `"role":"admin"`) {
		t.Errorf("no grant for alice as admin in the log")
	}
	// Refresh: each Token call refreshes (the token is inside the expiry
	// margin) and the gateway rotates the refresh token every time.
	ts, _ := h.TokenSource(ctx)
	first, err := ts.Token()
	if err != nil {
		t.Fatalf("refreshing: %v", err)
	}
	last, err := ts.Token()
	if err != nil {
		t.Fatalf("refreshing again: %v", err)
	}
	if last.AccessToken == first.AccessToken || last.RefreshToken == first.RefreshToken || last.RefreshToken == "" {
		t.Errorf("the second refresh did not issue new access and refresh tokens")
	}
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "after refresh"}}); err != nil {
		t.Errorf("tools/call after refreshes: %v", err)
	}
	// Tokens never reach the log.
	for _, tok := range []string{first.AccessToken, first.RefreshToken, last.AccessToken, last.RefreshToken} {
		if strings.Contains(logs.String(), tok) {
			t.Errorf("a token is in the log")
		}
	}

	// Revocation (RFC 7009) of the refresh token ends the whole grant.
	resp, err := http.PostForm(base+"/revoke", url.Values{"token": {last.RefreshToken}, "client_id": {clientID}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "revoked"}}); err == nil {
		t.Errorf("tools/call after revocation succeeded")
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
	req.Header.Set("Authorization", "Bearer "+last.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the revoked grant's access token got %d, want 401", resp.StatusCode)
	}
}
