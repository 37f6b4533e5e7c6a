package gateway

import (
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/mcpgate/mcpgate/internal/authserver/oidctest"
)

// oauthTestClient is the pre-registered public client of the OAuth
// gateway tests.
const oauthTestClient = `    clients: [{client_id: cli, redirect_uris: ["http://127.0.0.1:9/cb"]}]
`

// signIn runs a whole authorization of client cli for scope as user in a
// fresh cookie-jar browser and returns the access token.
func signIn(t *testing.T, gw *started, scope, user string) string {
	t.Helper()
	const redirect = "http://127.0.0.1:9/cb"
	v := oauth2.GenerateVerifier()
	start := gw.base + "/authorize?" + url.Values{"response_type": {"code"}, "client_id": {"cli"}, "redirect_uri": {redirect},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(v)}, "code_challenge_method": {"S256"},
		"state": {"s"}, "scope": {scope}}.Encode()
	loc := oidctest.Login(t, oidctest.NewBrowser(), start, user, redirect)
	return exchangeCode(t, gw.base, "cli", loc.Query().Get("code"), v, redirect, gw.url)
}

// TestOAuthToolScopes: with auth.oauth.tool_scopes, a token without a
// tool's scope lists the tool but calling it gets 403 with an
// insufficient_scope challenge naming the granted and the needed scopes
// (2025-11-25 authorization §Scope Challenge Handling); other tools work;
// a token obtained with the named scopes (step-up) calls it.
func TestOAuthToolScopes(t *testing.T) {
	gw, _ := startOAuthGatewayWith(t, oauthGateway{
		oauthExtra: "    scopes: [mcp, admin]\n    tool_scopes: {\"ec*\": [admin]}\n" + oauthTestClient,
		upstreams:  demoOnly,
	})
	call := func(tool string) string {
		return `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"` + tool + `","arguments":{"message":"hi","a":1,"b":2}}}`
	}

	basic := signIn(t, gw, "mcp", "alice")
	sid := open(t, gw.url, withToken(basic, ""))
	h := withToken(basic, sid)
	if r := send(t, "POST", gw.url, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, h); r.status != 200 || !strings.Contains(string(r.body), `"echo"`) {
		t.Errorf("tools/list: %d, echo listed: %v", r.status, strings.Contains(string(r.body), `"echo"`))
	}
	r := send(t, "POST", gw.url, call("echo"), h)
	ch := r.header.Get("WWW-Authenticate")
	if r.status != 403 || !strings.Contains(ch, `error="insufficient_scope"`) || !strings.Contains(ch, `scope="mcp admin"`) ||
		!strings.Contains(ch, `resource_metadata="`+gw.base+`/.well-known/oauth-protected-resource/mcp"`) {
		t.Fatalf("echo without admin: got %d %q", r.status, ch)
	}
	if r.message["error"] == nil {
		t.Errorf("the 403 body is not a JSON-RPC error: %s", r.body)
	}
	if r := send(t, "POST", gw.url, call("add"), h); r.status != 200 || r.message["result"] == nil {
		t.Errorf("add (no scope needed): got %d %s", r.status, r.body)
	}

	// Step-up: the scopes of the challenge.
	stepped := signIn(t, gw, "mcp admin", "alice")
	sid = open(t, gw.url, withToken(stepped, ""))
	if r := send(t, "POST", gw.url, call("echo"), withToken(stepped, sid)); r.status != 200 || !strings.Contains(string(r.body), "hi") {
		t.Errorf("echo with admin: got %d %s", r.status, r.body)
	}
}
