package config

import (
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mcpgate/mcpgate/internal/secret"
)

// Client authentication modes (Auth.Mode).
const (
	AuthNone        = "none"        // no client authentication: loopback listeners only
	AuthStatic      = "static"      // bearer tokens from the configuration
	AuthPassthrough = "passthrough" // the client's credential for one upstream
)

// Roles of static tokens (Token.Role); see package principal.
const (
	RoleAdmin    = "admin"
	RoleUser     = "user"
	RoleReadOnly = "readonly"
)

// Upstream credential types (Credential.Type).
const (
	CredentialNone        = "none"        // the upstream gets no credential from the gateway
	CredentialStatic      = "static"      // one secret for every user
	CredentialPerUser     = "per_user"    // each user's own secret, from Credential.Users
	CredentialPassthrough = "passthrough" // the credential the client sent (auth mode passthrough)
)

// Defaults of the security settings.
const (
	DefaultRealm                        = "mcpgate"
	DefaultRequestsPerMinute            = 1200
	DefaultMaxSessionsPerUser           = 1000
	DefaultMaxConcurrentCallsPerSession = 64
	DefaultMaxProcesses                 = 256
	DefaultMaxProcessesPerUser          = 4
	DefaultCORSMaxAge                   = 10 * time.Minute
	DefaultPassthroughHeader            = "Authorization"
)

// Auth configures client authentication on the MCP listener.
type Auth struct {
	// Mode is how clients authenticate: AuthNone, AuthStatic,
	// AuthPassthrough or AuthOAuth. Zero means AuthNone, which is allowed only on a
	// loopback listener (unless InsecureAllowUnprotectedNetwork).
	Mode string `yaml:"mode,omitempty"`
	// Realm names the protection space in WWW-Authenticate challenges.
	// Zero means DefaultRealm ("mcpgate").
	Realm string `yaml:"realm,omitempty"`
	// Tokens are the accepted bearer tokens (mode static). Required for
	// static, and only allowed there.
	Tokens []Token `yaml:"tokens,omitempty"`
	// Passthrough configures mode passthrough; only allowed there.
	Passthrough Passthrough `yaml:"passthrough,omitempty"`
	// OAuth configures mode oauth (AuthOAuth); only allowed there.
	OAuth OAuth `yaml:"oauth,omitempty"`
}

// Token is one static bearer token. The token itself never appears in the
// configuration: Hash is its digest, or names an environment variable that
// holds it.
type Token struct {
	// User names the principal the token stands for: its sessions, limits
	// and logs. Several tokens may name one user (rotation), with one role.
	// Required; 1 to 64 characters of A-Z a-z 0-9 . _ @ -.
	User string `yaml:"user"`
	// Role is RoleAdmin, RoleUser or RoleReadOnly. Zero means RoleUser.
	Role string `yaml:"role,omitempty"`
	// Hash is "sha256:<64 hex digits>" (`mcpgate hash-token` prints it) or
	// "env:NAME", an environment variable holding the token (or its
	// "sha256:…" digest). Required.
	Hash SecretRef `yaml:"hash"`
	// Digest is the token's digest, set by Resolve (from Hash, reading the
	// environment for "env:"). Not configurable.
	Digest secret.Digest `yaml:"-"`
}

// Passthrough configures auth mode passthrough: the credential a client
// sends is its credential for one upstream; the gateway binds the session
// to its hash and hands it to that upstream only.
type Passthrough struct {
	// Upstream names the upstream the credential is for. Required; its
	// credential type must be CredentialPassthrough.
	Upstream string `yaml:"upstream"`
	// Header is the request header carrying the credential. Zero means
	// "Authorization", in the Bearer scheme; for any other header its whole
	// value is the credential.
	Header string `yaml:"header,omitempty"`
}

// CORS configures cross-origin access by browser pages. The allowed
// origins are Config.AllowedOrigins.
type CORS struct {
	// AllowCredentials sends Access-Control-Allow-Credentials: true (for
	// cookies and browser-managed authentication; a bearer token set by the
	// page does not need it). Zero (false) leaves it out.
	AllowCredentials bool `yaml:"allow_credentials,omitempty"`
	// MaxAge is how long browsers may cache a preflight answer. Zero means
	// DefaultCORSMaxAge (10m).
	MaxAge time.Duration `yaml:"max_age,omitempty"`
}

// Limits bound what each user may use. Other limits live next to what
// they bound: sessions.max and sessions.max_per_user, http.max_body_bytes,
// event_log.*.
type Limits struct {
	// RequestsPerMinute is how many MCP requests one user may make per
	// minute (a token bucket holding one minute's worth); more get HTTP
	// 429 with Retry-After. Zero means DefaultRequestsPerMinute (1200)
	// with client authentication, and no limit with auth mode none (every
	// client is the same anonymous user on a loopback listener).
	RequestsPerMinute int `yaml:"requests_per_minute,omitempty"`
	// MaxConcurrentCallsPerSession is how many requests one session may
	// have in flight; more get HTTP 429. Zero means
	// DefaultMaxConcurrentCallsPerSession (64).
	MaxConcurrentCallsPerSession int `yaml:"max_concurrent_calls_per_session,omitempty"`
	// MaxProcesses bounds the stdio upstream processes running at once,
	// shared and per-user; a user whose process cannot start gets HTTP 503
	// with Retry-After. Zero means DefaultMaxProcesses (256).
	MaxProcesses int `yaml:"max_processes,omitempty"`
	// MaxProcessesPerUser bounds the per-user stdio processes of one
	// user. Zero means DefaultMaxProcessesPerUser (4).
	MaxProcessesPerUser int `yaml:"max_processes_per_user,omitempty"`
	// StatelessInFlightPerUser is how many 2026-07-28 (stateless)
	// requests one user may have in flight, listen streams included; more
	// get HTTP 429 with Retry-After. Zero means
	// DefaultStatelessInFlightPerUser (256).
	StatelessInFlightPerUser int `yaml:"stateless_in_flight_per_user,omitempty"`
	// ListensPerUser is how many subscriptions/listen streams one user may
	// hold open; more get HTTP 429 with Retry-After. Zero means
	// DefaultListensPerUser (32) with client authentication, and
	// MaxListens with auth mode none.
	ListensPerUser int `yaml:"listens_per_user,omitempty"`
	// MaxListens is how many subscriptions/listen streams may be open at
	// once; more get HTTP 503 with Retry-After. Zero means
	// DefaultMaxListens (1000).
	MaxListens int `yaml:"max_listens,omitempty"`
}

// Credential is what the gateway presents to an upstream on a user's
// behalf: an environment variable of a stdio upstream's process, or a
// header of each request to a remote one. The client's own gateway token
// is never sent upstream.
type Credential struct {
	// Type is CredentialNone, CredentialStatic, CredentialPerUser or
	// CredentialPassthrough. Zero means CredentialNone. Per-user and
	// passthrough credentials of a stdio upstream need PerUser (one
	// process per user).
	Type string `yaml:"type,omitempty"`
	// Value is the static secret: "env:NAME" or "file:/path" (never the
	// secret itself). Required for static, and only allowed there.
	Value SecretRef `yaml:"value,omitempty"`
	// Users maps user names (a static token's user) to their secrets,
	// "env:NAME" or "file:/path" each (per_user only). A user without an
	// entry cannot use the upstream.
	Users map[string]SecretRef `yaml:"users,omitempty"`
	// Env is the environment variable the credential is set in, for stdio
	// upstreams. Required for stdio when Type is not none.
	Env string `yaml:"env,omitempty"`
	// Header is the request header the credential is sent in, for remote
	// upstreams. Zero means "Authorization", as "Bearer <credential>".
	Header string `yaml:"header,omitempty"`

	// Secret is Value's secret and UserSecrets the Users' secrets, read by
	// Resolve. Not configurable.
	Secret      secret.String            `yaml:"-"`
	UserSecrets map[string]secret.String `yaml:"-"`
}

// Origins is a list of browser origins in which nil (not configured) and
// empty (none allowed) differ, and stay apart through a YAML round trip.
type Origins []string

// MarshalYAML implements yaml.Marshaler: nil is written as null.
func (o Origins) MarshalYAML() (any, error) {
	if o == nil {
		return nil, nil
	}
	return []string(o), nil
}

// SecretRef says where a secret comes from: "env:NAME" (an environment
// variable), "file:/path" (a file's content, trailing newline dropped) or,
// for token hashes only, "sha256:<hex>". It prints and logs with any digest
// redacted.
type SecretRef string

// Prefixes of SecretRef.
const (
	RefEnv    = "env:"
	RefFile   = "file:"
	RefSHA256 = secret.DigestPrefix
)

// String implements fmt.Stringer: env and file references as written, a
// digest redacted.
func (r SecretRef) String() string {
	if r == "" {
		return ""
	}
	if strings.HasPrefix(string(r), RefEnv) || strings.HasPrefix(string(r), RefFile) {
		return string(r)
	}
	if strings.HasPrefix(string(r), RefSHA256) {
		return RefSHA256 + secret.Redacted
	}
	return secret.Redacted
}

// GoString implements fmt.GoStringer.
func (r SecretRef) GoString() string { return strconv.Quote(r.String()) }

// LogValue implements slog.LogValuer.
func (r SecretRef) LogValue() slog.Value { return slog.StringValue(r.String()) }

// IsLoopbackListen reports whether a listen address binds only loopback
// interfaces: localhost, 127.0.0.0/8 or ::1. An empty host, 0.0.0.0, ::
// and any other name or address expose the gateway to the network.
func IsLoopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// Insecure lists the ways c weakens the secure defaults, one sentence
// each, for the warning logged at start and shown on /health. Nil means
// none.
func (c *Config) Insecure() []string {
	var out []string
	if IsLoopbackListen(c.Listen) {
		return nil
	}
	if c.Auth.Mode == "" || c.Auth.Mode == AuthNone {
		out = append(out, "the listener "+c.Listen+" is reachable from the network without client authentication (insecure_allow_unprotected_network)")
	}
	if c.AllowedOrigins == nil {
		out = append(out, "the listener "+c.Listen+" is reachable from the network without an origin allowlist (insecure_allow_unprotected_network)")
	}
	if len(c.PublicHosts) == 0 {
		out = append(out, "the listener "+c.Listen+" does not check the Host header (set public_hosts)")
	}
	return out
}

// setSecurityDefaults fills the security settings' zero values.
func (c *Config) setSecurityDefaults() {
	setDefault(&c.Auth.Mode, AuthNone)
	setDefault(&c.Auth.Realm, DefaultRealm)
	if c.Auth.Mode == AuthPassthrough {
		setDefault(&c.Auth.Passthrough.Header, DefaultPassthroughHeader)
	}
	for i := range c.Auth.Tokens {
		setDefault(&c.Auth.Tokens[i].Role, RoleUser)
	}
	c.setOAuthDefaults()
	setDefault(&c.CORS.MaxAge, DefaultCORSMaxAge)
	if c.Auth.Mode != AuthNone {
		setDefault(&c.Limits.RequestsPerMinute, DefaultRequestsPerMinute)
		setDefault(&c.Sessions.MaxPerUser, DefaultMaxSessionsPerUser)
	}
	setDefault(&c.Limits.MaxConcurrentCallsPerSession, DefaultMaxConcurrentCallsPerSession)
	setDefault(&c.Limits.MaxProcesses, DefaultMaxProcesses)
	setDefault(&c.Limits.MaxProcessesPerUser, DefaultMaxProcessesPerUser)
	for i := range c.Upstreams {
		cr := &c.Upstreams[i].Credential
		setDefault(&cr.Type, CredentialNone)
		if cr.Type != CredentialNone && c.Upstreams[i].Type != TypeStdio {
			setDefault(&cr.Header, "Authorization")
		}
	}
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
