package config

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidateOAuth(t *testing.T) {
	oauth := func(c *Config) {
		c.Auth = Auth{Mode: AuthOAuth, OAuth: OAuth{
			Issuer:   "https://gw.example",
			Upstream: OAuthUpstream{Issuer: "https://idp.example", ClientID: "mcpgate", ClientSecret: "env:IDP_SECRET"},
			Clients:  []OAuthClient{{ID: "cli", RedirectURIs: []string{"http://127.0.0.1:3000/cb"}}},
			Roles:    map[string]string{"admins": RoleAdmin},
		}}
	}
	tests := []validateCase{
		{name: "oauth is valid", change: oauth},
		{name: "loopback http issuer is valid", change: func(c *Config) { oauth(c); c.Auth.OAuth.Issuer = "http://127.0.0.1:8080" }},
		{name: "file store is valid", change: func(c *Config) {
			oauth(c)
			c.Auth.OAuth.Store = OAuthStore{Type: OAuthStoreFile, Path: "/var/lib/mcpgate/oauth.db"}
		}},
		{name: "redis store is valid", change: func(c *Config) {
			oauth(c)
			c.Auth.OAuth.Store = OAuthStore{Type: OAuthStoreRedis, URL: "env:REDIS_URL", Prefix: "gw1:"}
			c.Auth.OAuth.SealKey = "env:SEAL"
		}},
		{name: "redis store without url or seal key", change: func(c *Config) {
			oauth(c)
			c.Auth.OAuth.Store = OAuthStore{Type: OAuthStoreRedis}
		}, want: []string{
			`auth.oauth.store.url: required with type "redis"`,
			`auth.oauth.seal_key: required with store type "redis": replicas share one key`,
		}},
		{name: "redis url written in the configuration", change: func(c *Config) {
			oauth(c)
			c.Auth.OAuth.Store = OAuthStore{Type: OAuthStoreRedis, URL: "redis://:hunter2@redis:6379/0"}
			c.Auth.OAuth.SealKey = "env:SEAL"
		}, want: []string{
			`auth.oauth.store.url: want "env:NAME" or "file:/path"; secrets are never written in the configuration`,
		}},
		{name: "redis settings on another store", change: func(c *Config) {
			oauth(c)
			c.Auth.OAuth.Store = OAuthStore{Type: OAuthStoreMemory, URL: "env:REDIS_URL", Prefix: "gw1:"}
		}, want: []string{
			`auth.oauth.store.url: used only with type "redis"`,
			`auth.oauth.store.prefix: used only with type "redis"`,
		}},
		{name: "unknown store type", change: func(c *Config) {
			oauth(c)
			c.Auth.OAuth.Store = OAuthStore{Type: "etcd"}
		}, want: []string{
			`auth.oauth.store.type: unknown type "etcd" (want "memory", "file" or "redis")`,
		}},
		{name: "oauth settings without mode oauth", change: func(c *Config) { c.Auth.OAuth.Issuer = "https://gw.example" },
			want: []string{`auth.oauth: used only with mode "oauth"`}},
		{name: "required scopes without mode oauth", change: func(c *Config) { c.Auth.OAuth.RequiredScopes = []string{"mcp"} },
			want: []string{`auth.oauth: used only with mode "oauth"`}},
		{name: "everything wrong", change: func(c *Config) {
			oauth(c)
			o := &c.Auth.OAuth
			o.Issuer = "http://gw.example/"
			o.Upstream = OAuthUpstream{Issuer: "ftp://idp", ClientSecret: "hunter2"}
			o.Clients = []OAuthClient{{ID: "a", RedirectURIs: []string{"http://app.example/cb"}}, {ID: "a", SecretHash: "plain-text-token"}}
			o.Roles = map[string]string{"g": "root"}
			o.Store = OAuthStore{Type: OAuthStoreFile}
			o.RequiredScopes = []string{"admin"}
		}, want: []string{
			`auth.oauth.issuer: "http://gw.example/": want the gateway's public base URL, https (http only on loopback), without path or trailing slash`,
			`auth.oauth.upstream.issuer: "ftp://idp": want the provider's issuer URL (https; http only on loopback)`,
			`auth.oauth.required_scopes[0]: "admin" is not one of the scopes ["mcp"]`,
			`auth.oauth.upstream.client_id: required`,
			`auth.oauth.upstream.client_secret: want "env:NAME" or "file:/path"; secrets are never written in the configuration`,
			`auth.oauth.clients[0].redirect_uris[0]: "http://app.example/cb": want an absolute https URL (http only on loopback), without fragment`,
			`auth.oauth.clients[1].client_id: duplicate "a"`,
			`auth.oauth.clients[1].redirect_uris: at least one is required`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.change(c)
			got := problems(t, c)
			// Problems whose text comes from elsewhere are matched by prefix.
			var kept []string
			for _, p := range got {
				if strings.HasPrefix(p, "auth.oauth.clients[1].secret_hash") || strings.HasPrefix(p, "auth.oauth.roles.g") || strings.HasPrefix(p, "auth.oauth.store.path") {
					continue
				}
				kept = append(kept, p)
			}
			if tt.name == "everything wrong" && len(got)-len(kept) != 3 {
				t.Errorf("want problems for secret_hash, roles and store.path, got %q", got)
			}
			if diff := cmp.Diff(tt.want, kept); diff != "" {
				t.Errorf("problems mismatch (-want +got):\n%s", diff)
			}
			for _, p := range got {
				if strings.Contains(p, "hunter2") || strings.Contains(p, "plain-text-token") {
					t.Errorf("a problem repeats a secret: %s", p)
				}
			}
		})
	}
}

func TestResolveOAuthSecrets(t *testing.T) {
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	c := &Config{Auth: Auth{Mode: AuthOAuth, OAuth: OAuth{
		Upstream: OAuthUpstream{ClientSecret: "env:IDP_SECRET"}, SealKey: "env:SEAL"}}}
	env := map[string]string{"IDP_SECRET": "s3cret", "SEAL": key}
	err := c.ResolveSecrets(SecretReader{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	if c.Auth.OAuth.Upstream.Secret.Reveal() != "s3cret" || len(c.Auth.OAuth.SealKeyBytes) != 32 {
		t.Errorf("resolved: secret %v, key %d bytes", c.Auth.OAuth.Upstream.Secret, len(c.Auth.OAuth.SealKeyBytes))
	}
	c.Auth.OAuth.Store = OAuthStore{Type: OAuthStoreRedis, URL: "env:REDIS_URL"}
	env["REDIS_URL"] = "redis://:pw@redis:6379/0"
	if err := c.ResolveSecrets(SecretReader{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}); err != nil {
		t.Fatal(err)
	}
	if got := c.Auth.OAuth.Store.URLValue.Reveal(); got != env["REDIS_URL"] {
		t.Errorf("redis URL: got %q, want %q", got, env["REDIS_URL"])
	}
	delete(env, "REDIS_URL")
	if err := c.ResolveSecrets(SecretReader{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}); err == nil ||
		!strings.Contains(err.Error(), "auth.oauth.store.url") {
		t.Errorf("unset redis URL: %v", err)
	}
	c.Auth.OAuth.Store = OAuthStore{}
	env["SEAL"] = "short"
	if err := c.ResolveSecrets(SecretReader{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}); err == nil ||
		!strings.Contains(err.Error(), "auth.oauth.seal_key") || strings.Contains(err.Error(), "short") {
		t.Errorf("bad seal key: %v", err)
	}
}
