// Package gateway is the composition root: it builds every component from a
// resolved configuration, wires the HTTP routes, and owns the start and stop
// order. It holds no protocol logic of its own.
package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/mcpgate/mcpgate/internal/access"
	"github.com/mcpgate/mcpgate/internal/bearer"
	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/eventlog"
	"github.com/mcpgate/mcpgate/internal/httpfront"
	"github.com/mcpgate/mcpgate/internal/httpkit"
	"github.com/mcpgate/mcpgate/internal/mcpsession"
	"github.com/mcpgate/mcpgate/internal/metrics"
	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/ratelimit"
	"github.com/mcpgate/mcpgate/internal/relay"
	"github.com/mcpgate/mcpgate/internal/session"
	"github.com/mcpgate/mcpgate/internal/ssetransport"
	"github.com/mcpgate/mcpgate/internal/streamable"
	"github.com/mcpgate/mcpgate/internal/upstream"
	"github.com/mcpgate/mcpgate/internal/upstream/peruser"
	"github.com/mcpgate/mcpgate/internal/upstream/remote/h1"
	"github.com/mcpgate/mcpgate/internal/upstream/stdio"
)

// Options are what the gateway takes besides its configuration.
type Options struct {
	// Logger receives every log. Nil discards logs.
	Logger *slog.Logger
	// Version is the binary's version, reported on /health and as
	// serverInfo.version unless the configuration names one. Zero means "dev".
	Version string
	// OnListen, if set, is called with the base URL (http://host:port) once
	// the listener is open.
	OnListen func(baseURL string)
	// OnAdminListen, if set, is called with the admin listener's base URL
	// once it is open (only when the admin listener is on).
	OnAdminListen func(baseURL string)
	// StartTimeout bounds how long Start waits for the upstreams' first
	// initialize and lists before serving anyway (late upstreams appear
	// through list_changed). Zero means 30s.
	StartTimeout time.Duration
}

// Gateway is a built gateway: upstreams, relay, sessions, transports and
// routes.
type Gateway struct {
	cfg  *config.Config
	opts Options
	log  *slog.Logger

	pool       *upstream.Pool
	perUser    []*peruser.Pool // one per per_user upstream
	relay      *relay.Relay
	sessions   *session.Manager
	events     eventlog.Log
	hub        *mcpsession.Hub
	streamable *streamable.Handler
	legacy     *ssetransport.Handler // GET /sse, POST /messages (2024-11-05)
	handler    http.Handler
	admin      http.Handler // the admin listener's; nil when it is off
	started    time.Time

	// Client-facing protection (security.go).
	auth     bearer.Authenticator
	oauth    *oauthServer      // auth mode oauth only (oauth.go)
	limiter  ratelimit.Limiter // nil: no rate limit
	metrics  *metrics.Registry
	counters *counters

	// The HTTP client of remote upstreams, built on first use (remote.go).
	remoteOnce      sync.Once
	frontOnce       sync.Once
	front           *httpfront.Server // Front
	remoteTransport *h1.Transport
	remoteHTTP      *http.Client
	remoteEras      sync.Map // upstream name → *upstream.EraMemory (remote.go)
}

// New builds a gateway from a resolved, valid configuration. It starts
// nothing.
func New(cfg *config.Config, opts Options) (*Gateway, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 30 * time.Second
	}
	g := &Gateway{cfg: cfg, opts: opts, log: opts.Logger}
	if err := checkSupported(cfg); err != nil {
		return nil, err
	}
	g.metrics = metrics.NewRegistry()
	g.counters = newCounters(g.metrics)
	var err error
	if cfg.Auth.Mode == config.AuthOAuth {
		g.oauth, g.auth, err = newOAuth(cfg, g.log)
	} else {
		g.auth, err = newAuthenticator(cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("building client authentication: %w", err)
	}
	if g.limiter, err = newLimiter(cfg); err != nil {
		return nil, err
	}

	serverVersion := cfg.Info.Version
	if serverVersion == "" {
		serverVersion = opts.Version
	}
	timeouts := map[string]*metrics.Counter{} // read-only once built
	for _, u := range cfg.Enabled() {
		timeouts[u.Name] = g.metrics.Counter("mcpgate_upstream_timeouts_total",
			"Forwarded calls that timed out, by upstream.", "upstream", u.Name)
	}
	g.relay = relay.New(relay.Options{
		Separator:     cfg.Namespace.Separator,
		PrefixSingle:  cfg.Namespace.PrefixSingle,
		ServerName:    cfg.Info.Name,
		ServerVersion: serverVersion,
		MaxTTL:        cfg.Caching.MaxTTL,
		LegacyListTTL: cfg.Caching.LegacyListTTL,
		MRTR:          mrtrOptions(cfg.MRTR),
		Logger:        g.log.With("component", "relay"),
		OnCallTimeout: func(name string) {
			if c := timeouts[name]; c != nil {
				c.Inc()
			}
		},
	})
	clientInfo, _ := json.Marshal(map[string]string{"name": "mcpgate", "version": opts.Version})
	var conns []upstream.Conn
	processRefused := g.metrics.Counter("mcpgate_process_limit_refused_total",
		"Sessions refused because no upstream process could be started for their user.")
	// Shared stdio processes count against limits.max_processes too.
	limit := &processLimit{max: cfg.Limits.MaxProcesses, maxPerUser: cfg.Limits.MaxProcessesPerUser, byUser: map[string]int{}}
	for _, u := range cfg.Enabled() {
		if !u.PerUser {
			limit.total++
		}
	}
	for _, u := range cfg.Enabled() {
		if u.PerUser {
			pool, err := g.newPerUser(u, clientInfo, limit)
			if err != nil {
				return nil, fmt.Errorf("building upstream %q: %w", u.Name, err)
			}
			g.relay.Register(relay.Upstream{Name: u.Name, PerUser: userConns{pool}, CallTimeout: u.CallTimeout})
			g.perUser = append(g.perUser, pool)
			continue
		}
		conn, err := g.newUpstream(u, clientInfo)
		if err != nil {
			return nil, fmt.Errorf("building upstream %q: %w", u.Name, err)
		}
		g.relay.Register(relay.Upstream{Conn: conn, CallTimeout: u.CallTimeout})
		conns = append(conns, conn)
	}
	pool, err := upstream.NewPool(conns, g.log.With("component", "upstream"))
	if err != nil {
		return nil, fmt.Errorf("building upstream pool: %w", err)
	}
	g.pool = pool

	g.events = eventlog.NewMemory(eventlog.Limits{
		MaxEvents:  cfg.EventLog.MaxEventsPerStream,
		MaxBytes:   cfg.EventLog.MaxBytesPerStream,
		MaxStreams: cfg.EventLog.MaxStreamsPerSession,
	})
	g.sessions = session.NewManager(session.NewMemoryStore(), session.Config{
		MaxSessions:             cfg.Sessions.Max,
		MaxSessionsPerPrincipal: cfg.Sessions.MaxPerUser,
		IdleTimeout:             cfg.Sessions.IdleTimeout,
		OnExpire: func(s *session.Session, reason session.ExpireReason) {
			g.hub.SessionExpired(s, reason)
		},
		Logger: g.log.With("component", "session"),
	})
	// One session core for both transports.
	// Role rules (readonly) wrap the core, so they hold on every transport.
	core := access.Enforce(g.relay, &access.Options{Denied: g.counters.accessDenied, Logger: g.log.With("component", "access")})
	g.hub = mcpsession.New(core, g.sessions, g.events, &mcpsession.Options{
		Reserve: func(ctx context.Context, p principal.Principal) error {
			err := g.relay.Reserve(ctx, p)
			if err != nil {
				processRefused.Inc()
			}
			return err
		},
		MaxConcurrentCalls: cfg.Limits.MaxConcurrentCallsPerSession,
		Heartbeat:          cfg.HTTP.HeartbeatInterval,
		DisableParking:     cfg.HTTP.KeepIdleStreamsInHandlers,
		Logger:             g.log.With("component", "sessions"),
	})
	statelessRefused := map[string]*metrics.Counter{} // read-only once built
	for _, reason := range []string{streamable.RefusedInFlight, streamable.RefusedListensPerUser, streamable.RefusedMaxListens} {
		statelessRefused[reason] = g.metrics.Counter("mcpgate_stateless_refused_total",
			"2026-07-28 requests refused by limits.stateless_in_flight_per_user, listens_per_user or max_listens, by reason.",
			"reason", reason)
	}
	g.streamable = streamable.New(g.hub, &streamable.Options{
		MaxBodyBytes:             cfg.HTTP.MaxBodyBytes,
		Logger:                   g.log.With("component", "streamable"),
		StatelessInFlightPerUser: cfg.Limits.StatelessInFlightPerUser,
		ListensPerUser:           cfg.Limits.ListensPerUser,
		MaxListens:               cfg.Limits.MaxListens,
		OnStatelessRefused:       func(reason string) { statelessRefused[reason].Inc() },
	})
	g.legacy = ssetransport.New(g.hub, &ssetransport.Options{
		MaxBodyBytes: cfg.HTTP.MaxBodyBytes,
		Logger:       g.log.With("component", "ssetransport"),
	})
	g.registerSessionMetrics()
	g.registerMRTRMetrics() // mrtr_metrics.go
	h, err := g.routes()
	if err != nil {
		return nil, err
	}
	g.handler = h
	if g.admin, err = g.adminRoutes(); err != nil {
		return nil, err
	}
	return g, nil
}

// newUpstream builds the shared connection to upstream u.
func (g *Gateway) newUpstream(u config.Upstream, clientInfo json.RawMessage) (upstream.Conn, error) {
	switch u.Type {
	case config.TypeStdio, "":
		env, err := upstreamEnv(u)
		if err != nil {
			return nil, err
		}
		return stdio.New(stdioOptions(u, env, clientInfo), g.relay, g.log)
	case config.TypeHTTP, config.TypeSSE:
		// A shared connection carries no per-user credential (config
		// refuses per_user and passthrough without per_user).
		header, err := remoteHeader(context.Background(), u)
		if err != nil {
			return nil, err
		}
		return g.newRemote(u, header, clientInfo, g.relay, g.log)
	}
	return nil, fmt.Errorf("upstream type %q is not supported", u.Type)
}

// stdioOptions are the options of a stdio upstream's connection, with env
// as its extra environment.
func stdioOptions(u config.Upstream, env map[string]string, clientInfo json.RawMessage) stdio.Options {
	return stdio.Options{
		Name:              u.Name,
		Command:           u.Command,
		Args:              u.Args,
		Env:               env,
		Dir:               u.Dir,
		ClientInfo:        clientInfo,
		InitTimeout:       u.InitTimeout,
		Protocol:          upstreamProtocol(u.Protocol),
		ProbeTimeout:      u.ProbeTimeout,
		RestartBackoffMin: u.RestartBackoff.Min,
		RestartBackoffMax: u.RestartBackoff.Max,
	}
}

// Handler is the gateway's HTTP handler: /mcp, /health and JSON 404s.
func (g *Gateway) Handler() http.Handler { return g.handler }

// Start starts the upstreams and waits, bounded by Options.StartTimeout,
// for their first lists, so that the first client sees them.
func (g *Gateway) Start(ctx context.Context) error {
	g.started = time.Now()
	g.logWarnings()
	ctx, cancel := context.WithTimeout(ctx, g.opts.StartTimeout)
	defer cancel()
	if err := g.pool.Start(ctx); err != nil {
		return fmt.Errorf("starting upstreams: %w", err)
	}
	g.relay.Refresh(ctx)
	return nil
}

// Shutdown stops the gateway in order: streams and sessions are closed, then
// the HTTP server drains (done by the caller of Serve), then upstreams stop
// in spec order, then stores.
func (g *Gateway) Shutdown(ctx context.Context) error {
	var errs []error
	if err := g.hub.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("closing streams: %w", err))
	}
	g.relay.Close()
	if err := g.pool.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stopping upstreams: %w", err))
	}
	for _, p := range g.perUser {
		if err := p.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping per-user upstreams: %w", err))
		}
	}
	if g.remoteTransport != nil {
		g.remoteTransport.CloseIdleConnections()
	}
	g.sessions.Close()
	if g.oauth != nil {
		if err := g.oauth.close(); err != nil {
			errs = append(errs, fmt.Errorf("closing the OAuth store: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Run builds, starts and serves a gateway until ctx ends, then shuts it down
// gracefully within cfg.HTTP.ShutdownTimeout.
func Run(ctx context.Context, cfg *config.Config, opts Options) error {
	g, err := New(cfg, opts)
	if err != nil {
		return err
	}
	ln, err := listen(cfg.Listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.Listen, err)
	}
	log := g.log
	if err := g.Start(ctx); err != nil {
		ln.Close()
		return err
	}
	adminSrv, err := g.serveAdmin(log)
	if err != nil {
		ln.Close()
		g.Shutdown(context.Background())
		return err
	}
	srv := g.Front()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("serving", "addr", ln.Addr().String(), "upstreams", len(cfg.Enabled()))
	if opts.OnListen != nil {
		opts.OnListen("http://" + ln.Addr().String())
	}

	select {
	case err := <-served:
		adminSrv.shutdown(context.Background())
		g.Shutdown(context.Background())
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTimeout)
	defer cancel()
	// Streams first, so that long-lived SSE responses end and the server
	// can drain; then the server; then upstreams and stores.
	streamsErr := g.hub.Shutdown(sctx)
	srvErr := srv.Shutdown(sctx)
	if srvErr != nil {
		srv.Close()
	}
	adminErr := adminSrv.shutdown(sctx)
	err = g.Shutdown(sctx)
	log.Info("stopped")
	return errors.Join(streamsErr, srvErr, adminErr, err)
}

// Front returns the MCP listener's server (internal/httpfront): plain POSTs
// to /mcp and /messages on the fast lane, every other request on
// net/http's server, both through Handler. Its Serve serves a listener.
//
// It is built once: later calls return the same server, whose lanes the
// metrics count (mcpgate_http_fast_lane_requests_total,
// mcpgate_http_net_http_connections_total).
func (g *Gateway) Front() *httpfront.Server {
	g.frontOnce.Do(func() {
		g.front = httpfront.New(&httpfront.Options{
			Handler:           g.Handler(),
			Fast:              fastRequest,
			NetHTTPOnly:       g.cfg.HTTP.NetHTTPOnly,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelDebug),
			Log:               g.log,
		})
		g.metrics.CounterFunc("mcpgate_http_fast_lane_requests_total",
			"Requests the MCP listener served on its fast lane (internal/httpfront).",
			func() float64 { fast, _ := g.front.Stats(); return float64(fast) })
		g.metrics.CounterFunc("mcpgate_http_net_http_connections_total",
			"Connections of the MCP listener served by net/http's server: those whose first request, or a later one, the fast lane does not take.",
			func() float64 { _, handed := g.front.Stats(); return float64(handed) })
	})
	return g.front
}

// fastRequest: the hot requests, a POST of a message to the Streamable
// HTTP endpoint or to the legacy messages endpoint, and the DELETE that
// ends a session (a client that opens a session per tool call sends one
// each time); origin-form targets only, the query is the handlers' to
// judge. GET streams stay on net/http, which parks them.
func fastRequest(method, target []byte) bool {
	path, _, _ := bytes.Cut(target, []byte{'?'})
	switch string(method) {
	case http.MethodPost:
		return string(path) == "/mcp" || string(path) == "/messages"
	case http.MethodDelete:
		return string(path) == "/mcp"
	}
	return false
}

// routes builds the route table: the edge chain for everything, the MCP
// endpoint behind the Host/Origin guard.
func (g *Gateway) routes() (http.Handler, error) {
	// Host/Origin guard, CORS, authentication and rate limit (security.go).
	mcp, err := g.mcpChain(streamable.WriteError)
	if err != nil {
		return nil, err
	}
	// The 2024-11-05 HTTP+SSE transport gets the same protection; its
	// refusals are plain JSON errors.
	legacy, err := g.mcpChain(ssetransport.WriteError)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mcpHandler := mcp(g.streamable)
	mux.Handle("/mcp", mcpHandler)
	legacyStream, legacyMessages := legacy(g.legacy.Stream()), legacy(g.legacy.Messages())
	mux.Handle("/sse", legacyStream)
	mux.Handle("/messages", legacyMessages)
	mux.HandleFunc("GET /health", g.health)
	if g.oauth != nil {
		g.oauth.mount(mux)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		httpkit.WriteJSON(w, r, httpkit.NewError(http.StatusNotFound, "not_found", "No such endpoint. The MCP endpoint is /mcp (GET /sse for 2024-11-05 HTTP+SSE clients)."))
	})
	// Request ID, access log, panic recovery and Date in one layer.
	edge := httpkit.Edge(&httpkit.EdgeOptions{Log: g.log.With("component", "http"), OnResponse: g.counters.countResponse})
	// The MCP endpoints, every call, skip the mux's pattern search (about
	// 1% of a call's CPU): the same handlers the mux would find for these
	// clean paths.
	root := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/mcp":
			mcpHandler.ServeHTTP(w, r)
		case "/messages":
			legacyMessages.ServeHTTP(w, r)
		case "/sse":
			legacyStream.ServeHTTP(w, r)
		default:
			mux.ServeHTTP(w, r)
		}
	})
	return edge(root), nil
}
