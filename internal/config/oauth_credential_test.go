package config

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestValidateOAuthExtras: tool scopes, the abuse limits, consent and
// client lifetimes, and credential type oauth.
func TestValidateOAuthExtras(t *testing.T) {
	oauth := func(c *Config) {
		c.Auth = Auth{Mode: AuthOAuth, OAuth: OAuth{
			Issuer:   "https://gw.example",
			Upstream: OAuthUpstream{Issuer: "https://idp.example", ClientID: "mcpgate"},
			Scopes:   []string{"mcp", "admin"},
		}}
	}
	tests := []validateCase{
		{name: "extras are valid", change: func(c *Config) {
			oauth(c)
			o := &c.Auth.OAuth
			o.ToolScopes = map[string][]string{"fs__write_*": {"admin"}, "fs__read": {"mcp"}}
			o.ConsentTTL, o.DynamicClientIdleTTL = -time.Second, 24*time.Hour
			o.RegisterPerMinute, o.CIMD.FetchesPerMinute = -1, 5
			c.Upstreams[0].PerUser = true
			c.Upstreams[0].Credential = Credential{Type: CredentialOAuth, Env: "FS_TOKEN"}
		}},
		{name: "bad tool scopes", change: func(c *Config) {
			oauth(c)
			c.Auth.OAuth.ToolScopes = map[string][]string{"[": {"mcp"}, "x": nil, "y": {"root"}}
		}, want: []string{
			`auth.oauth.tool_scopes.[: "[" is not a valid pattern (path.Match syntax)`,
			`auth.oauth.tool_scopes.x: at least one scope is required`,
			`auth.oauth.tool_scopes.y: "root" is not one of the scopes ["mcp" "admin"]`,
		}},
		{name: "reserved upstream auth params", change: func(c *Config) {
			oauth(c)
			c.Auth.OAuth.Upstream.AuthParams = map[string]string{"access_type": "offline", "state": "x"}
		}, want: []string{`auth.oauth.upstream.auth_params.state: the gateway sets "state" itself`}},
		{name: "credential oauth needs mode oauth and per_user", change: func(c *Config) {
			c.Upstreams[0].Credential = Credential{Type: CredentialOAuth, Env: "FS_TOKEN"}
		}, want: []string{
			`upstreams[0].credential.type: "oauth" needs auth.mode "oauth": the token is the user's at auth.oauth.upstream`,
			`upstreams[0].credential.type: "oauth" gives each user their own token, so the upstream needs per_user: true`,
		}},
	}
	// Map iteration order: compare as sets.
	runValidateCases(t, tests, cmpopts.SortSlices(func(a, b string) bool { return a < b }))
}
