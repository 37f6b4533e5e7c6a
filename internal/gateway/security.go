package gateway

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"

	"github.com/mcpgate/mcpgate/internal/bearer"
	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/httpkit"
	"github.com/mcpgate/mcpgate/internal/metrics"
	"github.com/mcpgate/mcpgate/internal/ratelimit"
	"github.com/mcpgate/mcpgate/internal/secret"
)

// This file wires the client-facing protection of the MCP endpoint, in
// the order a request meets it (the "mcp" chain):
//
//	Guard (Host/Origin, 403) → CORS (preflight, 403) → bearer (401/400) → ratelimit (429) → transport
//
// and, inside the transport, session binding (403/404), session limits
// (503) and the role rules of package access (JSON-RPC -32003).

// counters are the gateway's own metrics; see docs/security.md.
type counters struct {
	authRefused  *metrics.Counter
	rateLimited  *metrics.Counter
	accessDenied *metrics.Counter
	responses    map[int]*metrics.Counter // by status; read-only after newCounters
	otherStatus  *metrics.Counter
}

// countedStatuses are the statuses counted one by one; others count as
// "other".
var countedStatuses = []int{200, 202, 204, 400, 401, 403, 404, 405, 406, 409, 413, 415, 429, 500, 503}

func newCounters(reg *metrics.Registry) *counters {
	c := &counters{
		authRefused: reg.Counter("mcpgate_auth_refused_total",
			"Requests refused for a missing, invalid or malformed credential (HTTP 401/400)."),
		rateLimited: reg.Counter("mcpgate_rate_limited_total",
			"Requests refused by the per-user rate limit (HTTP 429)."),
		accessDenied: reg.Counter("mcpgate_access_denied_total",
			"MCP requests refused for the principal's role (JSON-RPC -32003)."),
		responses:   make(map[int]*metrics.Counter, len(countedStatuses)),
		otherStatus: reg.Counter("mcpgate_http_responses_total", "HTTP responses by status code.", "code", "other"),
	}
	for _, s := range countedStatuses {
		c.responses[s] = reg.Counter("mcpgate_http_responses_total", "HTTP responses by status code.", "code", strconv.Itoa(s))
	}
	return c
}

func (c *counters) countResponse(_ *http.Request, status int) {
	if ctr, ok := c.responses[status]; ok {
		ctr.Inc()
		return
	}
	c.otherStatus.Inc()
}

// registerSessionMetrics exposes the session manager's counts.
func (g *Gateway) registerSessionMetrics() {
	g.metrics.GaugeFunc("mcpgate_sessions_open", "Open client sessions.", func() float64 {
		n, _ := g.sessions.Count(context.Background())
		return float64(n)
	})
	g.metrics.CounterFunc("mcpgate_session_limit_refused_total",
		"New sessions refused because the gateway (scope=global) or the user (scope=user) held the most allowed (HTTP 503).",
		func() float64 { gl, _ := g.sessions.LimitRefusals(); return float64(gl) }, "scope", "global")
	g.metrics.CounterFunc("mcpgate_session_limit_refused_total", "",
		func() float64 { _, pu := g.sessions.LimitRefusals(); return float64(pu) }, "scope", "user")
}

// Metrics returns the gateway's metrics, for the admin listener to serve.
func (g *Gateway) Metrics() *metrics.Registry { return g.metrics }

// Warnings lists the ways the configuration weakens the secure defaults
// (config.Config.Insecure); they are logged at start and shown on /health.
func (g *Gateway) Warnings() []string { return g.cfg.Insecure() }

// logWarnings logs each warning loudly, once, at start.
func (g *Gateway) logWarnings() {
	for _, w := range g.Warnings() {
		g.log.Warn("SECURITY WARNING: " + w)
	}
}

// checkSupported refuses what the configuration can describe but this
// build cannot do yet: a clear error rather than a silently weaker
// gateway. Every upstream type and credential is supported today (remote
// upstreams per user included), so it refuses nothing; it stays as the
// place for the next such feature.
func checkSupported(*config.Config) error { return nil }

// newAuthenticator builds the client authenticator of cfg.Auth.
func newAuthenticator(cfg *config.Config) (bearer.Authenticator, error) {
	switch cfg.Auth.Mode {
	case "", config.AuthNone:
		return bearer.Anonymous{}, nil
	case config.AuthStatic:
		tokens := make([]bearer.Token, len(cfg.Auth.Tokens))
		for i, t := range cfg.Auth.Tokens {
			d := t.Digest
			if d.IsZero() {
				if !strings.HasPrefix(string(t.Hash), config.RefSHA256) {
					return nil, fmt.Errorf("auth.tokens[%d]: %s is not resolved (config.Resolve reads it)", i, t.Hash)
				}
				var err error
				if d, err = secret.ParseDigest(string(t.Hash)); err != nil {
					return nil, fmt.Errorf("auth.tokens[%d]: %w", i, err)
				}
			}
			tokens[i] = bearer.Token{User: t.User, Role: t.Role, Digest: d}
		}
		return bearer.NewStatic(tokens)
	case config.AuthPassthrough:
		return bearer.NewPassthrough(bearer.PassthroughOptions{
			Upstream: cfg.Auth.Passthrough.Upstream,
			Header:   cfg.Auth.Passthrough.Header,
		})
	}
	return nil, fmt.Errorf("auth.mode %q is unknown", cfg.Auth.Mode)
}

// newLimiter builds the per-user rate limiter, or nil for no limit.
func newLimiter(cfg *config.Config) (ratelimit.Limiter, error) {
	if cfg.Limits.RequestsPerMinute <= 0 {
		return nil, nil
	}
	return ratelimit.NewMemory(ratelimit.MemoryOptions{PerMinute: cfg.Limits.RequestsPerMinute})
}

// mcpChain builds the protection in front of the MCP endpoints: /mcp, and
// /sse and /messages of the legacy transport, which get the same checks.
// Every refusal is written by writeError: streamable.WriteError (a
// JSON-RPC error object) on /mcp, ssetransport.WriteError on the legacy
// endpoints.
func (g *Gateway) mcpChain(writeError httpkit.ErrorWriter) (httpkit.Middleware, error) {
	cfg := g.cfg
	guard, err := httpkit.NewGuard(httpkit.GuardOptions{
		Loopback:       config.IsLoopbackListen(cfg.Listen),
		AllowedHosts:   cfg.PublicHosts,
		AllowedOrigins: cfg.AllowedOrigins,
		WriteError:     writeError,
		Logger:         g.log.With("component", "guard"),
	})
	if err != nil {
		return nil, fmt.Errorf("building host guard: %w", err)
	}
	cors, err := httpkit.NewCORS(httpkit.CORSOptions{
		AllowedOrigins:   cfg.AllowedOrigins,
		AllowCredentials: cfg.CORS.AllowCredentials,
		MaxAge:           cfg.CORS.MaxAge,
		WriteError:       writeError,
	})
	if err != nil {
		return nil, fmt.Errorf("building CORS: %w", err)
	}
	chain := []httpkit.Middleware{
		guard.Handler,
		cors.Handler,
		bearer.Middleware(g.auth, &bearer.MiddlewareOptions{
			Realm:            cfg.Auth.Realm,
			ResourceMetadata: g.oauthResourceMetadata(),
			Scope:            g.oauthScope(),
			RequiredScopes:   g.oauthRequiredScopes(),
			WriteError:       writeError,
			Logger:           g.log.With("component", "auth"),
			Refused:          g.counters.authRefused,
		}),
	}
	if m := g.oauthRequestChain(writeError); m != nil {
		chain = append(chain, m) // auth mode oauth, after authentication (oauth_scopes.go)
	}
	if g.limiter != nil {
		chain = append(chain, ratelimit.Middleware(g.limiter, &ratelimit.MiddlewareOptions{
			PerMinute:  cfg.Limits.RequestsPerMinute,
			WriteError: writeError,
			Logger:     g.log.With("component", "ratelimit"),
			Refused:    g.counters.rateLimited,
		}))
	}
	return httpkit.Chain(chain...), nil
}

// upstreamEnv returns the environment of a stdio upstream's process: its
// configured env plus, for a static credential, the secret in
// credential.env. The secret is revealed here, for the child process only.
func upstreamEnv(u config.Upstream) (map[string]string, error) {
	if u.Credential.Type != config.CredentialStatic {
		return u.Env, nil
	}
	if u.Credential.Secret.IsZero() {
		return nil, fmt.Errorf("credential %s is not resolved (config.Resolve reads it)", u.Credential.Value)
	}
	env := make(map[string]string, len(u.Env)+1)
	maps.Copy(env, u.Env)
	env[u.Credential.Env] = u.Credential.Secret.Reveal()
	return env, nil
}
