package gateway

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/authserver"
	"github.com/mcpgate/mcpgate/internal/authserver/oidctest"
	"github.com/mcpgate/mcpgate/internal/config"
)

// perUserOAuthDemo is the demo upstream, one process per user, with the
// user's upstream IdP token in MCPGATE_IDP_TOKEN.
const perUserOAuthDemo = `
upstreams:
  - name: demo
    command: DEMO
    args: [demo-server]
    per_user: true
    credential: {type: oauth, env: MCPGATE_IDP_TOKEN}
`

// upstreamSees calls the demo's get_env in a new session of token and
// returns what the user's process has in MCPGATE_IDP_TOKEN.
func upstreamSees(t *testing.T, gw *started, token string) string {
	t.Helper()
	sid := open(t, gw.url, withToken(token, ""))
	r := send(t, "POST", gw.url, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"get_env","arguments":{"name":"MCPGATE_IDP_TOKEN"}}}`, withToken(token, sid))
	res, _ := r.message["result"].(map[string]any)
	content, _ := res["content"].([]any)
	if r.status != 200 || len(content) == 0 || res["isError"] == true {
		t.Fatalf("get_env: %d %s", r.status, r.body)
	}
	first, _ := content[0].(map[string]any)
	value, _ := first["text"].(string)
	if value == "" || strings.Contains(value, token) || strings.HasPrefix(value, "mcpgate_") {
		t.Fatalf("the upstream saw %q, want the user's IdP token (gateway token %q)", value, token)
	}
	return value
}

// idpUser returns the subject the provider's userinfo endpoint gives for
// an access token, or "" when it refuses it.
func idpUser(t *testing.T, idp, token string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", idp+"/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var me struct {
		Sub string `json:"sub"`
	}
	json.NewDecoder(resp.Body).Decode(&me)
	if resp.StatusCode != 200 {
		return ""
	}
	return me.Sub
}

// TestOAuthUpstreamCredential: a per-user stdio upstream with credential
// type oauth gets, in its environment, the user's own access token at the
// upstream identity provider — accepted by that provider's userinfo
// endpoint as that user — and never the client's gateway token; each
// user's process gets their own.
func TestOAuthUpstreamCredential(t *testing.T) {
	gw, idp := startOAuthGatewayWith(t, oauthGateway{oauthExtra: oauthTestClient, upstreams: perUserOAuthDemo})
	seen := map[string]string{}
	for _, user := range []string{"alice", "bob"} {
		value := upstreamSees(t, gw, signIn(t, gw, "mcp", user))
		if got := idpUser(t, idp, value); got != user {
			t.Errorf("%s: the provider says the upstream's token is %q's", user, got)
		}
		seen[user] = value
	}
	if seen["alice"] == seen["bob"] {
		t.Error("alice's and bob's processes got the same token")
	}
	if strings.Contains(gw.logs.String(), seen["alice"]) {
		t.Error("an upstream token is in the gateway log")
	}
}

// TestOAuthUpstreamRefresh: when the user's upstream token is about to
// expire, the gateway refreshes it with the upstream refresh token and
// replaces the user's process, which starts with the new token; the old
// process is retired. The provider issues 35-second access tokens: fresh
// for the first 5 seconds, then inside the renewal margin
// (authserver.UpstreamLeeway, 30 s). The test lets the first token age
// past that point — waiting for time itself, which is what is under
// test, not for another goroutine.
func TestOAuthUpstreamRefresh(t *testing.T) {
	gw, idp := startOAuthGatewayWith(t, oauthGateway{
		oauthExtra: oauthTestClient,
		upstreams:  perUserOAuthDemo,
		idp:        oidctest.Options{AccessTokenTTL: 35 * time.Second},
		mutate: func(c *config.Config) {
			// oidc-provider issues a refresh token only for offline_access
			// asked with prompt=consent (OAUTH-NOTES).
			c.Auth.OAuth.Upstream.Scopes = []string{"openid", "email", "groups", "offline_access"}
			c.Auth.OAuth.Upstream.Prompt = "consent"
		},
	})
	renewAt := time.Now().Add(35*time.Second - authserver.UpstreamLeeway)
	tok := signIn(t, gw, "mcp", "alice") // the upstream token is issued now
	first := upstreamSees(t, gw, tok)
	if time.Now().After(renewAt) {
		t.Skip("the first call took longer than the token's fresh window; the machine is too slow for this test")
	}
	time.Sleep(time.Until(renewAt.Add(500 * time.Millisecond)))
	second := upstreamSees(t, gw, tok)
	if first == second {
		t.Fatal("the user's process kept its token although it was about to expire")
	}
	for i, v := range []string{first, second} {
		if got := idpUser(t, idp, v); got != "alice" {
			t.Errorf("token %d: the provider says it is %q's", i, got)
		}
	}
	if l := gw.logs.String(); !strings.Contains(l, "per-user upstream retired") || strings.Count(l, "upstream process started") != 2 {
		t.Errorf("want one retirement and two processes for alice: retired %v, starts %d",
			strings.Contains(l, "per-user upstream retired"), strings.Count(l, "upstream process started"))
	}
}
