package config

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/mcpgate/mcpgate/internal/secret"
)

// validateSecurity reports the problems of the security settings: listener
// exposure, origins and hosts, authentication, limits and upstream
// credentials.
func (c *Config) validateSecurity(ps *Problems) {
	for i, h := range c.PublicHosts {
		if err := checkHost(h); err != "" {
			ps.add("public_hosts["+strconv.Itoa(i)+"]", "%q: %s", h, err)
		}
	}
	for i, o := range c.AllowedOrigins {
		if err := checkOrigin(o); err != "" {
			ps.add("allowed_origins["+strconv.Itoa(i)+"]", "%q: %s", o, err)
		}
	}
	nonNegativeDuration(ps, "cors.max_age", c.CORS.MaxAge)
	nonNegative(ps, "sessions.max_per_user", c.Sessions.MaxPerUser)
	nonNegative(ps, "limits.requests_per_minute", c.Limits.RequestsPerMinute)
	nonNegative(ps, "limits.max_concurrent_calls_per_session", c.Limits.MaxConcurrentCallsPerSession)
	nonNegative(ps, "limits.max_processes", c.Limits.MaxProcesses)
	nonNegative(ps, "limits.max_processes_per_user", c.Limits.MaxProcessesPerUser)
	if c.Limits.MaxProcesses > 0 {
		shared := 0
		for _, u := range c.Enabled() {
			if (u.Type == "" || u.Type == TypeStdio) && !u.PerUser {
				shared++
			}
		}
		if shared > c.Limits.MaxProcesses {
			ps.add("limits.max_processes", "%d is fewer than the %d shared stdio upstreams", c.Limits.MaxProcesses, shared)
		}
	}

	c.validateAuth(ps)
	c.validateExposure(ps)
	for i := range c.Upstreams {
		c.validateCredential(ps, "upstreams["+strconv.Itoa(i)+"]", &c.Upstreams[i])
	}
}

// validateExposure refuses a listener reachable from the network without
// client authentication or without an origin allowlist, unless the
// operator opted out loudly ([T §Security Warning]: bind to localhost when
// local; authenticate all connections; validate Origin).
func (c *Config) validateExposure(ps *Problems) {
	if c.Listen == "" || checkListen(c.Listen) != nil || IsLoopbackListen(c.Listen) || c.InsecureAllowUnprotectedNetwork {
		return
	}
	if c.Auth.Mode == "" || c.Auth.Mode == AuthNone {
		ps.add("auth.mode", "listen %q is reachable from the network, so client authentication is required: "+
			"set auth.mode to %q or %q (or, for a trusted network only, insecure_allow_unprotected_network: true)",
			c.Listen, AuthStatic, AuthPassthrough)
	}
	if c.AllowedOrigins == nil {
		ps.add("allowed_origins", "listen %q is reachable from the network, so the browser origins allowed must be listed "+
			"(allowed_origins: [] allows none; or, for a trusted network only, insecure_allow_unprotected_network: true)", c.Listen)
	}
}

func (c *Config) validateAuth(ps *Problems) {
	a := &c.Auth
	switch a.Mode {
	case "", AuthNone, AuthStatic, AuthPassthrough, AuthOAuth:
	default:
		ps.add("auth.mode", "unknown mode %q (want %q, %q, %q or %q)", a.Mode, AuthNone, AuthStatic, AuthPassthrough, AuthOAuth)
	}
	c.validateOAuth(ps)
	if strings.ContainsAny(a.Realm, "\"\\") || hasControl(a.Realm) {
		ps.add("auth.realm", "must not contain quotes, backslashes or control characters")
	}
	if a.Mode == AuthStatic {
		if len(a.Tokens) == 0 {
			ps.add("auth.tokens", "at least one token is required with mode %q", AuthStatic)
		}
	} else if len(a.Tokens) > 0 {
		ps.add("auth.tokens", "tokens are used only with mode %q", AuthStatic)
	}
	digests := map[string]int{}
	roles := map[string]string{}
	for i, t := range a.Tokens {
		at := "auth.tokens[" + strconv.Itoa(i) + "]"
		switch {
		case t.User == "":
			ps.add(at+".user", "required")
		case !validUser(t.User):
			ps.add(at+".user", "%q: want 1 to 64 characters of A-Z a-z 0-9 . _ @ -", t.User)
		}
		switch t.Role {
		case "", RoleAdmin, RoleUser, RoleReadOnly:
			role := t.Role
			if role == "" {
				role = RoleUser
			}
			if prev, ok := roles[t.User]; ok && prev != role && t.User != "" {
				ps.add(at+".role", "user %q has tokens with roles %q and %q; give a user one role", t.User, prev, role)
			}
			roles[t.User] = role
		default:
			ps.add(at+".role", "unknown role %q (want %q, %q or %q)", t.Role, RoleAdmin, RoleUser, RoleReadOnly)
		}
		h := string(t.Hash)
		switch {
		case h == "":
			ps.add(at+".hash", `required: "sha256:<hex>" (run mcpgate hash-token) or "env:NAME"`)
		case strings.HasPrefix(h, RefSHA256):
			if _, err := secret.ParseDigest(h); err != nil {
				ps.add(at+".hash", "%v", err)
			} else if j, dup := digests[strings.ToLower(h)]; dup {
				ps.add(at+".hash", "the same token as auth.tokens[%d]", j)
			} else {
				digests[strings.ToLower(h)] = i
			}
		case strings.HasPrefix(h, RefEnv):
			if !validEnvName(h[len(RefEnv):]) {
				ps.add(at+".hash", "%q: not a valid environment variable name", h)
			}
		default:
			ps.add(at+".hash", `want "sha256:<64 hex digits>" (run mcpgate hash-token) or "env:NAME"; tokens are never written in the configuration`)
		}
	}
	p := &a.Passthrough
	if a.Mode != AuthPassthrough {
		if p.Upstream != "" || p.Header != "" {
			ps.add("auth.passthrough", "used only with mode %q", AuthPassthrough)
		}
		return
	}
	if p.Header != "" && !validFieldName(p.Header) {
		ps.add("auth.passthrough.header", "%q is not a valid header name", p.Header)
	}
	if p.Upstream == "" {
		ps.add("auth.passthrough.upstream", "required with mode %q", AuthPassthrough)
		return
	}
	for _, u := range c.Upstreams {
		if u.Name != p.Upstream {
			continue
		}
		if u.Disabled {
			ps.add("auth.passthrough.upstream", "%q is disabled", p.Upstream)
		} else if u.Credential.Type != CredentialPassthrough {
			ps.add("auth.passthrough.upstream", "upstream %q must have credential type %q", p.Upstream, CredentialPassthrough)
		}
		return
	}
	ps.add("auth.passthrough.upstream", "no upstream named %q", p.Upstream)
}

// validateCredential checks one upstream's per_user and credential
// settings.
func (c *Config) validateCredential(ps *Problems, at string, u *Upstream) {
	stdio := u.Type == "" || u.Type == TypeStdio
	cr := &u.Credential
	at += ".credential"
	switch cr.Type {
	case "", CredentialNone:
		if cr.Value != "" || len(cr.Users) > 0 || cr.Env != "" || cr.Header != "" {
			ps.add(at, "type is %q, but value, users, env or header is set", CredentialNone)
		}
		return
	case CredentialStatic:
		if cr.Value == "" {
			ps.add(at+".value", `required with type %q: "env:NAME" or "file:/path"`, CredentialStatic)
		} else {
			checkSecretRef(ps, at+".value", cr.Value)
		}
	case CredentialPerUser:
		if len(cr.Users) == 0 {
			ps.add(at+".users", "required with type %q: user name → \"env:NAME\" or \"file:/path\"", CredentialPerUser)
		}
		for _, user := range sortedKeys(cr.Users) {
			if !validUser(user) {
				ps.add(at+".users", "%q is not a user name", user)
			}
			checkSecretRef(ps, at+".users."+user, cr.Users[user])
		}
	case CredentialPassthrough:
		if c.Auth.Mode != AuthPassthrough || c.Auth.Passthrough.Upstream != u.Name {
			ps.add(at+".type", "%q needs auth.mode %q with auth.passthrough.upstream %q", CredentialPassthrough, AuthPassthrough, u.Name)
		}
	case CredentialOAuth:
		c.validateOAuthCredential(ps, at, u) // oauth_credential.go
	default:
		ps.add(at+".type", "unknown type %q (want %q, %q, %q, %q or %q)", cr.Type, CredentialNone, CredentialStatic, CredentialPerUser, CredentialPassthrough, CredentialOAuth)
		return
	}
	if cr.Type != CredentialStatic && cr.Value != "" {
		ps.add(at+".value", "used only with type %q", CredentialStatic)
	}
	if cr.Type != CredentialPerUser && len(cr.Users) > 0 {
		ps.add(at+".users", "used only with type %q", CredentialPerUser)
	}
	if stdio {
		switch {
		case cr.Env == "":
			ps.add(at+".env", "required for a stdio upstream: the environment variable the credential is set in")
		case !validEnvName(cr.Env):
			ps.add(at+".env", "%q is not a valid environment variable name", cr.Env)
		case u.Env[cr.Env] != "":
			ps.add(at+".env", "%q is also set in env", cr.Env)
		}
		if cr.Header != "" {
			ps.add(at+".header", "used only by remote upstreams; a stdio upstream gets the credential in env")
		}
		if (cr.Type == CredentialPerUser || cr.Type == CredentialPassthrough) && !u.PerUser {
			ps.add(at+".type", "%q gives each user their own credential, so the stdio upstream needs per_user: true (one process per user)", cr.Type)
		}
	} else {
		if cr.Env != "" {
			ps.add(at+".env", "used only by stdio upstreams")
		}
		if cr.Header != "" && !validFieldName(cr.Header) {
			ps.add(at+".header", "%q is not a valid header name", cr.Header)
		}
		if (cr.Type == CredentialPerUser || cr.Type == CredentialPassthrough) && !u.PerUser {
			ps.add(at+".type", "%q gives each user their own credential, so the remote upstream needs per_user: true (one connection per user)", cr.Type)
		}
	}
}

func checkSecretRef(ps *Problems, at string, r SecretRef) {
	s := string(r)
	switch {
	case strings.HasPrefix(s, RefEnv):
		if !validEnvName(s[len(RefEnv):]) {
			ps.add(at, "%q: not a valid environment variable name", s)
		}
	case strings.HasPrefix(s, RefFile):
		if s == RefFile || strings.IndexByte(s, 0) >= 0 {
			ps.add(at, "%q: want file:/path", s)
		}
	default:
		ps.add(at, `want "env:NAME" or "file:/path"; secrets are never written in the configuration`)
	}
}

// checkHost checks a public host name: "name" or "name:port", no scheme,
// path or wildcard. The Guard parses it strictly when the gateway starts.
func checkHost(h string) string {
	switch {
	case h == "":
		return "empty"
	case strings.Contains(h, "://"):
		return `want a host name ("mcp.example.com" or "mcp.example.com:8443"), not a URL`
	case strings.ContainsAny(h, "/*@ \t"), hasControl(h):
		return `want a host name ("mcp.example.com" or "mcp.example.com:8443")`
	}
	return ""
}

// checkOrigin checks a browser origin: scheme://host[:port] with scheme
// http or https, nothing more.
func checkOrigin(o string) string {
	if o == "*" {
		return `"*" is not allowed: list each origin`
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || strings.Contains(u.Host, "*") {
		return `want "scheme://host[:port]" with scheme http or https, such as "https://app.example.com"`
	}
	return ""
}

func validUser(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '.' || b == '_' || b == '@' || b == '-') {
			return false
		}
	}
	return true
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b == '_' || i > 0 && b >= '0' && b <= '9') {
			return false
		}
	}
	return true
}

// validFieldName reports whether s is an HTTP field name (RFC 9110 §5.1:
// a token).
func validFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0) {
			return false
		}
	}
	return true
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}
