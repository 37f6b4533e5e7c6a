package streamable

import (
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/mcpgate/mcpgate/internal/eventlog"
	"github.com/mcpgate/mcpgate/internal/httpkit"
	"github.com/mcpgate/mcpgate/internal/mcpsession"
	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/session"
)

// TransportName is the session.Session.Transport of sessions created here.
const TransportName = mcpsession.TransportStreamable

// Options configures a Handler. The zero value of each field selects its
// default; nil Options means all defaults. Heartbeats, the bound on calls
// in flight per session and the SSE write timeout are the session core's
// (mcpsession.Options), shared with the legacy transport.
type Options struct {
	// MaxBodyBytes is the largest POST body accepted; larger gets 413.
	// Zero means 4 MiB.
	MaxBodyBytes int64
	// MaxBatch is the most messages in one JSON-RPC batch (2025-03-26
	// sessions only). Zero means 64.
	MaxBatch int
	// Retry is the SSE retry interval sent in the priming event of
	// 2025-11-25 streams. Zero means one second.
	Retry time.Duration
	// Logger receives the transport's logs. Nil discards them.
	Logger *slog.Logger
	// StatelessInFlightPerUser bounds one principal's 2026-07-28 requests
	// in flight, listen streams included; more get 429 with Retry-After
	// (statelessgate.go). Zero means DefaultStatelessInFlightPerUser (256).
	StatelessInFlightPerUser int
	// ListensPerUser bounds one principal's open subscriptions/listen
	// streams; more get 429 with Retry-After. Zero means
	// DefaultListensPerUser (32), or MaxListens if that is smaller.
	ListensPerUser int
	// MaxListens bounds all open listen streams; more get 503 with
	// Retry-After. Zero means DefaultMaxListens (1000).
	MaxListens int
	// OnStatelessRefused, if set, is called with the reason (Refused*)
	// each time a stateless request is refused by those bounds (metrics).
	// Nil means nothing is called.
	OnStatelessRefused func(reason string)
}

// Defaults for Options.
const (
	DefaultMaxBodyBytes = 4 << 20
	DefaultMaxBatch     = 64
	DefaultRetry        = time.Second
)

// Handler serves the MCP endpoint. Mount it on the endpoint path (e.g.
// /mcp) behind the edge middleware; pass WriteError to the middleware in
// front of it so that its errors are JSON-RPC objects too.
type Handler struct {
	hub    *mcpsession.Hub
	core   Core
	events eventlog.Log
	opts   Options
	log    *slog.Logger

	testHookTailEnded func() // if set, called when a POST's tail goroutine returns

	gate *statelessGate // per-principal bounds of stateless requests (statelessgate.go)

	slowTimers sync.Pool // *slowTimer: the POSTs' heartbeat timers (slowtimer.go)
}

// New returns a Handler serving the sessions of hub. Shutdown and idle
// expiry are the hub's (mcpsession.Hub.Shutdown, SessionExpired).
func New(hub *mcpsession.Hub, opts *Options) *Handler {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.Retry <= 0 {
		o.Retry = DefaultRetry
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{hub: hub, core: hub.Core(), events: hub.Events(), opts: o, log: log, gate: newStatelessGate(o)}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		h.post(w, r)
	case http.MethodGet, http.MethodDelete:
		// [SH26 §Earlier Streamable HTTP Revisions]: without a session
		// there is nothing to GET or DELETE (2026-07-28 has no standalone
		// stream and no sessions); 2025-11-25 allows 405 for GET as well.
		if _, present, ok := sessionHeader(r); ok && !present {
			w.Header().Set("Allow", "POST")
			h.fail(w, r, errMethod)
			return
		}
		if r.Method == http.MethodGet {
			h.get(w, r)
		} else {
			h.delete(w, r)
		}
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		h.fail(w, r, errMethod)
	}
}

// resolve finds the session a request names and checks that its principal
// owns it (mcpsession.Hub.Resolve: 404, 403). version is the
// MCP-Protocol-Version header's value, already checked to be supported (""
// when absent).
func (h *Handler) resolve(r *http.Request, version string) (*session.Session, *httpkit.Error) {
	id, present, ok := sessionHeader(r)
	switch {
	case !ok:
		return nil, errSessionHeader
	case !present:
		// [T §Session Management] 2: servers that require a session ID
		// SHOULD respond to requests without one (other than
		// initialization) with 400.
		return nil, errSessionMissing
	}
	s, err := h.hub.Resolve(r.Context(), id, principal.FromContext(r.Context()), TransportName)
	if err != nil {
		var herr *httpkit.Error
		if errors.As(err, &herr) {
			return nil, herr
		}
		return nil, httpkit.AsError(err)
	}
	// [T §Protocol Version Header]: the client sends the negotiated
	// version. One that is supported but different is tolerated (the
	// official conformance suite sends 2025-03-26 in 2025-11-25 sessions);
	// the negotiated version governs the session either way. Absent, the
	// negotiated version applies.
	if version != "" && version != s.ProtocolVersion {
		h.log.Debug("protocol version header differs from the session's", "session", session.Short(s.ID),
			"header", version, "negotiated", s.ProtocolVersion)
	}
	return s, nil
}
