package config

import (
	"encoding/base64"
	"net/url"
	"path"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mcpgate/mcpgate/internal/secret"
)

// AuthOAuth is the client authentication mode in which the gateway is an
// OAuth 2.1 authorization server in front of an upstream OpenID provider
// and checks its own access tokens (docs/oauth.md).
const AuthOAuth = "oauth"

// OAuth store types (OAuthStore.Type).
const (
	OAuthStoreMemory = "memory" // lost on restart
	OAuthStoreFile   = "file"   // one bbolt file
	OAuthStoreRedis  = "redis"  // shared by replicas
)

// OAuth configures auth mode oauth; only allowed there.
type OAuth struct {
	// Issuer is the gateway's public base URL: the issuer of its tokens
	// and the base of its endpoints (/authorize, /callback, /token, …).
	// https, or http on a loopback host; no path, query or trailing slash.
	// Required. The protected resource is Issuer + "/mcp".
	Issuer string `yaml:"issuer"`
	// Scopes are the scopes clients may ask for. Zero means ["mcp"].
	Scopes []string `yaml:"scopes,omitempty"`
	// RequiredScopes must all be granted to a token for the MCP endpoint;
	// a token without one gets 403 insufficient_scope (step-up). Each
	// must be one of Scopes. Zero requires none.
	RequiredScopes []string `yaml:"required_scopes,omitempty"`
	// Upstream is the OpenID provider users sign in at. Required.
	Upstream OAuthUpstream `yaml:"upstream"`
	// Clients are pre-registered clients; others register dynamically.
	Clients []OAuthClient `yaml:"clients,omitempty"`
	// Roles maps an upstream group (the ID token's groups claim) to a
	// role; the most privileged match wins. DefaultRole is the role of a
	// user without a match; zero means RoleUser.
	Roles       map[string]string `yaml:"roles,omitempty"`
	DefaultRole string            `yaml:"default_role,omitempty"`
	// CIMD configures Client ID Metadata Documents (https URL client IDs
	// whose document the gateway fetches).
	CIMD OAuthCIMD `yaml:"cimd,omitempty"`
	// Store is where clients, grants and tokens live.
	Store OAuthStore `yaml:"store,omitempty"`
	// SealKey is "env:NAME" or "file:/path" holding a base64 32-byte key
	// that encrypts the upstream tokens at rest. Zero means a key
	// generated next to a file store (seal.key, mode 0600), or a random
	// key per process with the memory store.
	SealKey SecretRef `yaml:"seal_key,omitempty"`
	// AccessTokenTTL and RefreshTokenTTL are token lifetimes. Zero means
	// 1h and 720h.
	AccessTokenTTL  time.Duration `yaml:"access_token_ttl,omitempty"`
	RefreshTokenTTL time.Duration `yaml:"refresh_token_ttl,omitempty"`
	// ToolScopes maps an exposed tool name, or a path.Match pattern of
	// names ("github__*"), to the scopes a token needs to call it; a call
	// without them gets 403 insufficient_scope naming them (step-up).
	// Every scope must be one of Scopes. tools/list is not filtered. Zero
	// requires no per-tool scope.
	ToolScopes map[string][]string `yaml:"tool_scopes,omitempty"`
	// ConsentTTL is how long a user's approval of a client (same scopes
	// and resource) is remembered in that browser, skipping the consent
	// page. Zero means 720h; negative (e.g. -1s) asks every time.
	ConsentTTL time.Duration `yaml:"consent_ttl,omitempty"`
	// DynamicClientIdleTTL forgets a dynamically registered client (and
	// its grants) unused this long. Zero means 2160h (90 days); negative
	// keeps them forever.
	DynamicClientIdleTTL time.Duration `yaml:"dynamic_client_idle_ttl,omitempty"`
	// RegisterPerMinute bounds dynamic registrations per client IP
	// address (429 over it). Zero means 20; negative means no limit.
	RegisterPerMinute int `yaml:"register_per_minute,omitempty"`

	// SealKeyBytes is SealKey's key, read by ResolveSecrets. Not
	// configurable.
	SealKeyBytes []byte `yaml:"-"`
}

// OAuthUpstream is the upstream OpenID provider and the gateway's one
// client there.
type OAuthUpstream struct {
	// Issuer is the provider's issuer URL (discovery is read from it).
	// Required.
	Issuer string `yaml:"issuer"`
	// ClientID is the gateway's client at the provider. Required.
	ClientID string `yaml:"client_id"`
	// ClientSecret is "env:NAME" or "file:/path". Zero means a public
	// client.
	ClientSecret SecretRef `yaml:"client_secret,omitempty"`
	// Scopes requested upstream. Zero means openid, email, profile.
	Scopes []string `yaml:"scopes,omitempty"`
	// Prompt is sent as the OIDC prompt parameter (e.g. consent, which
	// some providers need before they issue a refresh token). Zero sends
	// none.
	Prompt string `yaml:"prompt,omitempty"`
	// AuthParams are extra parameters of the authorization request
	// upstream (Google: access_type: offline for a refresh token). The
	// parameters the gateway sets itself (client_id, redirect_uri,
	// response_type, scope, state, nonce, code_challenge,
	// code_challenge_method, prompt) are refused. Zero adds none.
	AuthParams map[string]string `yaml:"auth_params,omitempty"`

	// Secret is ClientSecret's value, read by ResolveSecrets. Not
	// configurable.
	Secret secret.String `yaml:"-"`
}

// OAuthClient is a pre-registered OAuth client.
type OAuthClient struct {
	// ID is the client_id. Required.
	ID string `yaml:"client_id"`
	// Name is shown on the consent page.
	Name string `yaml:"name,omitempty"`
	// RedirectURIs are matched exactly: https, or http on loopback.
	// Required.
	RedirectURIs []string `yaml:"redirect_uris"`
	// SecretHash is "sha256:<hex>" of a confidential client's secret
	// (mcpgate hash-token prints it). Zero means a public client.
	SecretHash SecretRef `yaml:"secret_hash,omitempty"`
}

// OAuthCIMD configures Client ID Metadata Documents. The zero value
// enables them with the SSRF guards on.
type OAuthCIMD struct {
	// Disabled turns them off.
	Disabled bool `yaml:"disabled,omitempty"`
	// InsecureAllowPrivateNetworks lets the fetch reach loopback and
	// private addresses (closed networks and tests only).
	InsecureAllowPrivateNetworks bool `yaml:"insecure_allow_private_networks,omitempty"`
	// FetchesPerMinute bounds document fetches per document host (cached
	// documents are not fetched). Zero means 30; negative means no limit.
	FetchesPerMinute int `yaml:"fetches_per_minute,omitempty"`
}

// OAuthStore selects the state backend.
type OAuthStore struct {
	// Type is OAuthStoreMemory, OAuthStoreFile or OAuthStoreRedis. Zero
	// means memory.
	Type string `yaml:"type,omitempty"`
	// Path is the file of a file store. Required for file.
	Path string `yaml:"path,omitempty"`
	// URL is "env:NAME" or "file:/path" holding the Redis URL
	// (redis://, rediss:// or unix://; it may carry a password).
	// Required for redis.
	URL SecretRef `yaml:"url,omitempty"`
	// Prefix namespaces the Redis keys. Zero means "mcpgate:oauth:".
	Prefix string `yaml:"prefix,omitempty"`

	// URLValue is URL's value, read by ResolveSecrets. Not configurable.
	URLValue secret.String `yaml:"-"`
}

// setOAuthDefaults fills auth.oauth's zero values (mode oauth only).
func (c *Config) setOAuthDefaults() {
	if c.Auth.Mode != AuthOAuth {
		return
	}
	setDefault(&c.Auth.OAuth.Store.Type, OAuthStoreMemory)
	setDefault(&c.Auth.OAuth.DefaultRole, RoleUser)
}

// validateOAuth reports the problems of auth.oauth.
func (c *Config) validateOAuth(ps *Problems) {
	o := &c.Auth.OAuth
	if c.Auth.Mode != AuthOAuth {
		if !reflect.ValueOf(*o).IsZero() {
			ps.add("auth.oauth", "used only with mode %q", AuthOAuth)
		}
		return
	}
	if u, err := url.Parse(o.Issuer); o.Issuer == "" || err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") ||
		u.RawQuery != "" || strings.HasSuffix(o.Issuer, "/") || !(u.Scheme == "https" || u.Scheme == "http" && isLoopbackName(u.Hostname())) {
		ps.add("auth.oauth.issuer", "%q: want the gateway's public base URL, https (http only on loopback), without path or trailing slash", o.Issuer)
	}
	if u, err := url.Parse(o.Upstream.Issuer); o.Upstream.Issuer == "" || err != nil || u.Host == "" || !(u.Scheme == "https" || u.Scheme == "http" && isLoopbackName(u.Hostname())) {
		ps.add("auth.oauth.upstream.issuer", "%q: want the provider's issuer URL (https; http only on loopback)", o.Upstream.Issuer)
	}
	supported := o.Scopes
	if len(supported) == 0 {
		supported = []string{"mcp"}
	}
	for i, sc := range o.RequiredScopes {
		if !slices.Contains(supported, sc) {
			ps.add("auth.oauth.required_scopes["+strconv.Itoa(i)+"]", "%q is not one of the scopes %q", sc, supported)
		}
	}
	if o.Upstream.ClientID == "" {
		ps.add("auth.oauth.upstream.client_id", "required")
	}
	for k := range o.Upstream.AuthParams {
		switch k {
		case "client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "code_challenge", "code_challenge_method", "prompt", "":
			ps.add("auth.oauth.upstream.auth_params."+k, "the gateway sets %q itself", k)
		}
	}
	if o.Upstream.ClientSecret != "" {
		checkSecretRef(ps, "auth.oauth.upstream.client_secret", o.Upstream.ClientSecret)
	}
	if o.SealKey != "" {
		checkSecretRef(ps, "auth.oauth.seal_key", o.SealKey)
	}
	ids := map[string]bool{}
	for i, cl := range o.Clients {
		at := "auth.oauth.clients[" + strconv.Itoa(i) + "]"
		if cl.ID == "" {
			ps.add(at+".client_id", "required")
		} else if ids[cl.ID] {
			ps.add(at+".client_id", "duplicate %q", cl.ID)
		}
		ids[cl.ID] = true
		if len(cl.RedirectURIs) == 0 {
			ps.add(at+".redirect_uris", "at least one is required")
		}
		for j, ru := range cl.RedirectURIs {
			u, err := url.Parse(ru)
			if err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" || !(u.Scheme == "https" || u.Scheme == "http" && isLoopbackName(u.Hostname())) {
				ps.add(at+".redirect_uris["+strconv.Itoa(j)+"]", "%q: want an absolute https URL (http only on loopback), without fragment", ru)
			}
		}
		if h := string(cl.SecretHash); h != "" {
			if _, err := secret.ParseDigest(h); err != nil {
				ps.add(at+".secret_hash", "%v", err)
			}
		}
	}
	for g, r := range o.Roles {
		if r != RoleAdmin && r != RoleUser && r != RoleReadOnly {
			ps.add("auth.oauth.roles."+g, "unknown role %q (want %q, %q or %q)", r, RoleAdmin, RoleUser, RoleReadOnly)
		}
	}
	switch o.DefaultRole {
	case "", RoleAdmin, RoleUser, RoleReadOnly:
	default:
		ps.add("auth.oauth.default_role", "unknown role %q", o.DefaultRole)
	}
	switch o.Store.Type {
	case "", OAuthStoreMemory, OAuthStoreFile, OAuthStoreRedis:
	default:
		ps.add("auth.oauth.store.type", "unknown type %q (want %q, %q or %q)", o.Store.Type, OAuthStoreMemory, OAuthStoreFile, OAuthStoreRedis)
	}
	switch isFile := o.Store.Type == OAuthStoreFile; {
	case isFile && o.Store.Path == "":
		ps.add("auth.oauth.store.path", "required with type %q", OAuthStoreFile)
	case !isFile && o.Store.Path != "":
		ps.add("auth.oauth.store.path", "used only with type %q", OAuthStoreFile)
	}
	if o.Store.Type == OAuthStoreRedis {
		if o.Store.URL == "" {
			ps.add("auth.oauth.store.url", "required with type %q", OAuthStoreRedis)
		} else {
			checkSecretRef(ps, "auth.oauth.store.url", o.Store.URL)
		}
		// Every replica must open the upstream tokens the others sealed.
		if o.SealKey == "" {
			ps.add("auth.oauth.seal_key", "required with store type %q: replicas share one key", OAuthStoreRedis)
		}
	} else {
		if o.Store.URL != "" {
			ps.add("auth.oauth.store.url", "used only with type %q", OAuthStoreRedis)
		}
		if o.Store.Prefix != "" {
			ps.add("auth.oauth.store.prefix", "used only with type %q", OAuthStoreRedis)
		}
	}
	for pat, scopes := range o.ToolScopes {
		at := "auth.oauth.tool_scopes." + pat
		if _, err := path.Match(pat, ""); err != nil || pat == "" {
			ps.add(at, "%q is not a valid pattern (path.Match syntax)", pat)
		}
		if len(scopes) == 0 {
			ps.add(at, "at least one scope is required")
		}
		for _, sc := range scopes {
			if !slices.Contains(supported, sc) {
				ps.add(at, "%q is not one of the scopes %q", sc, supported)
			}
		}
	}
	nonNegativeDuration(ps, "auth.oauth.access_token_ttl", o.AccessTokenTTL)
	nonNegativeDuration(ps, "auth.oauth.refresh_token_ttl", o.RefreshTokenTTL)
}

// resolveOAuthSecrets reads the upstream client secret and the seal key.
func (c *Config) resolveOAuthSecrets(r SecretReader, ps *Problems) {
	o := &c.Auth.OAuth
	if c.Auth.Mode != AuthOAuth {
		return
	}
	if o.Upstream.ClientSecret != "" {
		s, err := r.read(o.Upstream.ClientSecret)
		if err != nil {
			ps.add("auth.oauth.upstream.client_secret", "%v", err)
		} else {
			o.Upstream.Secret = s
		}
	}
	if o.Store.Type == OAuthStoreRedis && o.Store.URL != "" {
		s, err := r.read(o.Store.URL)
		if err != nil {
			ps.add("auth.oauth.store.url", "%v", err)
		} else {
			o.Store.URLValue = s
		}
	}
	if o.SealKey != "" {
		s, err := r.read(o.SealKey)
		if err != nil {
			ps.add("auth.oauth.seal_key", "%v", err)
			return
		}
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s.Reveal()))
		if err != nil || len(k) != 32 {
			ps.add("auth.oauth.seal_key", "want 32 bytes, base64 (openssl rand -base64 32)")
			return
		}
		o.SealKeyBytes = k
	}
}

// isLoopbackName reports whether host is localhost or a loopback address.
func isLoopbackName(host string) bool {
	return IsLoopbackListen(net0(host))
}

// net0 makes a host into a host:port for IsLoopbackListen.
func net0(host string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:0"
	}
	return host + ":0"
}
