// Package authserver is mcpgate's OAuth 2.1 authorization server facade in
// front of an upstream OpenID provider: it registers MCP clients, asks the
// user's consent, sends the browser to the upstream provider, and issues
// its own opaque, audience-bound access and refresh tokens, which the
// resource server (package bearer's OAuth authenticator) checks through
// VerifyAccessToken. See docs/oauth.md.
//
//	client ──/authorize──▶ consent page ──POST──▶ upstream /authorize
//	client ◀──code + iss── /callback ◀──code── upstream
//	client ──/token──▶ access + refresh token (hashes stored, never values)
//
// Nothing a client holds is ever sent upstream, and no upstream token is
// ever given to a client.
package authserver

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/ratelimit"
	"github.com/mcpgate/mcpgate/internal/secret"
)

// Defaults of Options.
const (
	DefaultAccessTTL        = time.Hour
	DefaultRefreshTTL       = 30 * 24 * time.Hour
	DefaultCodeTTL          = time.Minute
	DefaultAuthorizationTTL = 10 * time.Minute
	DefaultScope            = "mcp"
	DefaultSweepInterval    = 10 * time.Minute
	DefaultConsentTTL       = 30 * 24 * time.Hour
)

// Upstream describes the upstream OpenID provider the users log in at.
type Upstream struct {
	// Issuer is the provider's issuer URL; its discovery document is read
	// on first use. Required.
	Issuer string
	// ClientID and ClientSecret are the gateway's one static client at the
	// provider. ClientID is required; a zero ClientSecret means a public
	// client.
	ClientID     string
	ClientSecret secret.String
	// Scopes requested upstream. Zero means openid, email and profile.
	// Add offline_access for an upstream refresh token (UpstreamToken).
	Scopes []string
	// Prompt, if set, is sent as the OIDC prompt parameter (some providers
	// issue refresh tokens only with prompt=consent). Zero sends none.
	Prompt string
	// AuthParams are extra authorization request parameters (Google's
	// access_type=offline). They cannot replace the ones the server sets.
	// Nil adds none.
	AuthParams map[string]string
}

// StaticClient is a client registered in the configuration.
type StaticClient struct {
	ID string
	// SecretHash is the "sha256:<hex>" digest of its secret; zero means a
	// public client.
	SecretHash   string
	Name         string
	RedirectURIs []string
}

// Options configures a Server.
type Options struct {
	// Issuer is this authorization server's issuer: the gateway's public
	// base URL (https, or http on loopback), without a trailing slash.
	// Its endpoints hang under it. Required.
	Issuer string
	// Resource is the canonical URI of the protected MCP endpoint
	// (RFC 8707 / [A §Canonical Server URI]); tokens are bound to it. Zero
	// means Issuer + "/mcp".
	Resource string
	// Scopes are the scopes clients may ask for. Zero means ["mcp"]; a
	// request without scope gets all of them.
	Scopes []string
	// Upstream is the upstream OpenID provider. Required.
	Upstream Upstream
	// Clients are pre-registered clients.
	Clients []StaticClient
	// CIMD configures Client ID Metadata Documents; the zero value enables
	// them with the SSRF guards on.
	CIMD CIMDOptions
	// Roles maps an upstream group to a principal role; the most
	// privileged match wins. DefaultRole is the role without a match; zero
	// means principal.RoleUser.
	Roles       map[string]string
	DefaultRole string
	// Store holds the state. Nil means a new MemoryStore.
	Store Store
	// SealKey is the 32-byte AES-256-GCM key sealing upstream tokens at
	// rest. Nil means a random key for this process's lifetime.
	SealKey []byte
	// AccessTTL, RefreshTTL and CodeTTL are the lifetimes of access tokens,
	// refresh tokens (and their grant) and codes. Zero means the defaults.
	AccessTTL, RefreshTTL, CodeTTL time.Duration
	// SweepInterval is how often expired records are deleted from the
	// store: at most once per interval, inline in a request to /authorize,
	// /register or /token (no goroutine). Zero means DefaultSweepInterval
	// (10m); negative never sweeps.
	SweepInterval time.Duration
	// ConsentTTL is how long a user's approval of a client (for the same
	// scopes and resource) is remembered in this browser, so the consent
	// page is skipped: zero means DefaultConsentTTL (30 days); negative
	// asks every time. Revoking the grant (refresh token at /revoke, a
	// detected replay, `mcpgate oauth revoke`) forgets it.
	ConsentTTL time.Duration
	// ClientIdleTTL forgets a dynamically registered client nobody used
	// (authorization or token request) for this long, with its grants.
	// Zero means DefaultClientIdleTTL (90 days); negative keeps clients
	// forever. Pre-registered and CIMD clients are never forgotten.
	ClientIdleTTL time.Duration
	// RegisterPerMinute bounds dynamic registrations per client IP
	// address (429 over it). Zero means DefaultRegisterPerMinute (20);
	// negative means no limit.
	RegisterPerMinute int
	// CIMDFetchesPerMinute bounds Client ID Metadata Document fetches per
	// document host (cached documents are not fetched). Zero means
	// DefaultCIMDFetchesPerMinute (30); negative means no limit.
	CIMDFetchesPerMinute int
	// HTTPClient makes the calls to the upstream provider. Nil means
	// http.DefaultClient.
	HTTPClient *http.Client
	// Logger receives the server's log lines (never a token). Nil discards.
	Logger *slog.Logger
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// Server is the authorization server. Its Handler serves the endpoints.
type Server struct {
	o     Options
	store Store
	seal  *sealer
	// cimdHTTP fetches client metadata documents, behind the SSRF guard.
	cimdHTTP *http.Client
	log      *slog.Logger
	secure   bool // cookies get Secure (https issuer)

	// registerLimit (per client IP) and cimdLimit (per document host)
	// bound registrations and document fetches; nil means no limit.
	registerLimit, cimdLimit ratelimit.Limiter

	lastSweep atomic.Int64 // UnixNano of the last sweep
	refreshMu sync.Mutex   // serialises upstream token refreshes

	mu       sync.Mutex // guards provider
	provider *oidc.Provider
}

// New returns a Server, registering opts.Clients in the store.
func New(ctx context.Context, opts Options) (*Server, error) {
	u, err := url.Parse(opts.Issuer)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(opts.Issuer, "/") {
		return nil, fmt.Errorf("checking issuer %q: not an absolute URL without trailing slash, query or fragment", opts.Issuer)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && isLoopbackHost(u.Hostname())) {
		return nil, fmt.Errorf("checking issuer %q: https required (http only on loopback)", opts.Issuer)
	}
	if opts.Upstream.Issuer == "" || opts.Upstream.ClientID == "" {
		return nil, errors.New("checking upstream: issuer and client_id are required")
	}
	if opts.Resource == "" {
		opts.Resource = opts.Issuer + "/mcp"
	}
	if len(opts.Scopes) == 0 {
		opts.Scopes = []string{DefaultScope}
	}
	if len(opts.Upstream.Scopes) == 0 {
		opts.Upstream.Scopes = []string{oidc.ScopeOpenID, "email", "profile"}
	}
	if opts.DefaultRole == "" {
		opts.DefaultRole = principal.RoleUser
	}
	setDefault(&opts.AccessTTL, DefaultAccessTTL)
	setDefault(&opts.RefreshTTL, DefaultRefreshTTL)
	setDefault(&opts.CodeTTL, DefaultCodeTTL)
	setDefault(&opts.SweepInterval, DefaultSweepInterval)
	setDefault(&opts.CIMD.MaxBytes, DefaultCIMDMaxBytes)
	setDefault(&opts.CIMD.Timeout, DefaultCIMDTimeout)
	setDefault(&opts.CIMD.CacheTTL, DefaultCIMDCacheTTL)
	setDefault(&opts.ConsentTTL, DefaultConsentTTL)
	setDefault(&opts.ClientIdleTTL, DefaultClientIdleTTL)
	setDefault(&opts.RegisterPerMinute, DefaultRegisterPerMinute)
	setDefault(&opts.CIMDFetchesPerMinute, DefaultCIMDFetchesPerMinute)
	if opts.HTTPClient == nil {
		opts.HTTPClient = http.DefaultClient
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{o: opts, store: opts.Store, log: opts.Logger, secure: u.Scheme == "https", cimdHTTP: newCIMDClient(opts.CIMD)}
	if s.store == nil {
		s.store = NewMemoryStore()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.lastSweep.Store(opts.Now().UnixNano())
	if s.seal, err = newSealer(opts.SealKey); err != nil {
		return nil, err
	}
	if s.registerLimit, err = newLimiter(opts.RegisterPerMinute, opts.Now); err != nil {
		return nil, err
	}
	if s.cimdLimit, err = newLimiter(opts.CIMDFetchesPerMinute, opts.Now); err != nil {
		return nil, err
	}
	for i, c := range opts.Clients {
		cl := Client{ID: c.ID, SecretHash: c.SecretHash, Name: c.Name, RedirectURIs: c.RedirectURIs,
			ApplicationType: "web", AuthMethod: "none", Static: true, CreatedAt: opts.Now()}
		if c.SecretHash != "" {
			if _, err := secret.ParseDigest(c.SecretHash); err != nil {
				return nil, fmt.Errorf("checking client %d: %w", i, err)
			}
			cl.AuthMethod = "client_secret_basic"
		}
		if c.ID == "" || len(c.RedirectURIs) == 0 {
			return nil, fmt.Errorf("checking client %d: client id and redirect URIs are required", i)
		}
		for _, ru := range c.RedirectURIs {
			if err := checkRedirectURI(ru); err != nil {
				return nil, fmt.Errorf("checking client %q: %w", c.ID, err)
			}
		}
		if err := s.store.PutClient(ctx, cl); err != nil {
			return nil, fmt.Errorf("registering client %q: %w", c.ID, err)
		}
	}
	return s, nil
}

// Resource returns the canonical resource URI tokens are bound to.
func (s *Server) Resource() string { return s.o.Resource }

// Scopes returns the supported scopes.
func (s *Server) Scopes() []string { return s.o.Scopes }

// ResourceMetadataURL returns the URL of the protected resource metadata
// of the resource (path-inserted, RFC 9728 §3.1).
func (s *Server) ResourceMetadataURL() string {
	return s.o.Issuer + "/.well-known/oauth-protected-resource" + resourcePath(s.o.Resource)
}

// Handler serves the authorization server's endpoints and the protected
// resource metadata. Mount it at the issuer's root for the paths below;
// other paths get 404.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	as := cors(http.HandlerFunc(s.serveASMetadata))
	// RFC 8414 §3 and OIDC Discovery §4, at the root (a path-less issuer)
	// and in the path-inserted and path-appended forms clients also try
	// for the MCP path ([A §Authorization Server Metadata Discovery];
	// seed 001 serves the suffixed variants).
	rp := resourcePath(s.o.Resource)
	for _, p := range []string{
		"/.well-known/oauth-authorization-server",
		"/.well-known/openid-configuration",
		"/.well-known/oauth-authorization-server" + rp,
		"/.well-known/openid-configuration" + rp,
		rp + "/.well-known/openid-configuration",
		rp + "/.well-known/oauth-authorization-server",
	} {
		handleOnce(mux, p, as)
	}
	prm := cors(http.HandlerFunc(s.servePRM))
	// RFC 9728 §3.1: path-inserted, and at the root ([A §PRM Discovery]).
	handleOnce(mux, "/.well-known/oauth-protected-resource", prm)
	handleOnce(mux, "/.well-known/oauth-protected-resource"+rp, prm)
	// Browser-based clients call these cross-origin; the browser pages
	// (/authorize, /callback) are navigations and get no CORS.
	for p, h := range map[string]http.HandlerFunc{"/register": s.serveRegister, "/token": s.serveToken, "/revoke": s.serveRevoke} {
		mux.Handle("POST "+p, cors(h))
		mux.Handle("OPTIONS "+p, cors(h))
	}
	mux.HandleFunc("GET /authorize", s.serveAuthorize)
	mux.HandleFunc("POST /authorize", s.serveConsent)
	mux.HandleFunc("GET /callback", s.serveCallback)
	return mux
}

// handleOnce registers GET path unless an earlier call did (a resource at
// the root makes some forms coincide).
func handleOnce(mux *http.ServeMux, path string, h http.Handler) {
	if _, pattern := mux.Handler(&http.Request{Method: "GET", URL: &url.URL{Path: path}}); pattern == "GET "+path {
		return
	}
	mux.Handle("GET "+path, h)
	mux.Handle("OPTIONS "+path, h)
}

// cors lets any origin call the metadata, registration, token and
// revocation endpoints (as the MCP SDKs' authorization servers do): they
// use no cookies or other ambient credentials, so a page learns nothing it
// could not fetch itself. Preflights are answered here.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "GET, POST")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, MCP-Protocol-Version")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// upstream returns the upstream provider, discovering it on first use (and
// again after a failure).
func (s *Server) upstream(ctx context.Context) (*oidc.Provider, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.provider != nil {
		return s.provider, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, s.o.HTTPClient), s.o.Upstream.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discovering upstream provider: %w", err)
	}
	s.provider = p
	return p, nil
}

func (s *Server) oauth2Config(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     s.o.Upstream.ClientID,
		ClientSecret: s.o.Upstream.ClientSecret.Reveal(),
		Endpoint:     p.Endpoint(),
		RedirectURL:  s.o.Issuer + "/callback",
		Scopes:       s.o.Upstream.Scopes,
	}
}

// maybeSweep deletes expired records if the last sweep is older than the
// sweep interval; of concurrent callers only one sweeps.
func (s *Server) maybeSweep(ctx context.Context) {
	now := s.o.Now()
	last := s.lastSweep.Load()
	if s.o.SweepInterval < 0 || now.UnixNano()-last < int64(s.o.SweepInterval) || !s.lastSweep.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	n, err := s.store.Sweep(ctx, now)
	if err != nil {
		s.log.ErrorContext(ctx, "sweeping expired records", "err", err)
		return
	}
	idle, err := s.sweepIdleClients(ctx, now)
	if err != nil {
		s.log.ErrorContext(ctx, "sweeping idle clients", "err", err)
	}
	s.log.DebugContext(ctx, "swept expired records", "count", n, "idle_clients", idle)
}

// randomValue returns 32 random bytes, base64url: codes, tokens, states.
func randomValue() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashKey is the store key of a secret value: hex SHA-256.
func hashKey(v string) string {
	d := sha256.Sum256([]byte(v))
	return hex.EncodeToString(d[:])
}

func resourcePath(resource string) string {
	u, err := url.Parse(resource)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(u.Path, "/")
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}
