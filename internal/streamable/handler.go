package streamable

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/mcpgate/mcpgate/internal/eventlog"
	"github.com/mcpgate/mcpgate/internal/httpkit"
	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/session"
)

// TransportName is the session.Session.Transport of sessions created here.
const TransportName = "streamable"

// Options configures a Handler. The zero value of each field selects its
// default; nil Options means all defaults.
type Options struct {
	// MaxBodyBytes is the largest POST body accepted; larger gets 413.
	// Zero means 4 MiB.
	MaxBodyBytes int64
	// MaxConcurrentCalls is the most POSTs carrying requests that one
	// session may have in flight on this replica; more get 429. Keep it
	// below the event log's MaxStreams. Zero means 64.
	MaxConcurrentCalls int
	// MaxBatch is the most messages in one JSON-RPC batch (2025-03-26
	// sessions only). Zero means 64.
	MaxBatch int
	// Heartbeat is how long an SSE stream may stay silent before the
	// handler sends a ": ping" comment (and marks the session active). It is
	// also how long a call may run without sending anything before its POST
	// switches from a pending JSON response to SSE, so heartbeats can flow.
	// Zero means 15 seconds; negative disables both.
	Heartbeat time.Duration
	// Retry is the SSE retry interval sent in the priming event of
	// 2025-11-25 streams. Zero means one second.
	Retry time.Duration
	// Logger receives the transport's logs. Nil discards them.
	Logger *slog.Logger
}

// Defaults for Options.
const (
	DefaultMaxBodyBytes       = 4 << 20
	DefaultMaxBatch           = 64
	DefaultMaxConcurrentCalls = 64
	DefaultHeartbeat          = 15 * time.Second
	DefaultRetry              = time.Second
)

// Handler serves the MCP endpoint. Mount it on the endpoint path (e.g.
// /mcp) behind the edge middleware; pass WriteError to the middleware in
// front of it so that its errors are JSON-RPC objects too.
type Handler struct {
	core     Core
	sessions *session.Manager
	events   eventlog.Log
	opts     Options
	log      *slog.Logger

	base       context.Context // parent of every session context
	cancelBase context.CancelFunc
	closingCtx context.Context // done once Shutdown begins: GET streams end
	closeNow   context.CancelFunc

	mu   sync.RWMutex // guards live
	live map[string]*liveSession

	testHookTailEnded func() // if set, called when a POST's tail goroutine returns

	actMu   sync.Mutex    // guards the fields below
	closing bool          // Shutdown has begun: no new calls or streams
	active  int           // call goroutines and stream tails running
	idle    chan struct{} // closed when active drops to zero; nil when nobody waits
}

// New returns a Handler. The Manager should report expiries to the
// handler's SessionExpired (the composition root wires Config.OnExpire).
func New(core Core, sessions *session.Manager, events eventlog.Log, opts *Options) *Handler {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.MaxConcurrentCalls <= 0 {
		o.MaxConcurrentCalls = DefaultMaxConcurrentCalls
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	if o.Retry <= 0 {
		o.Retry = DefaultRetry
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base, cancel := context.WithCancel(context.Background())
	closing, closeNow := context.WithCancel(context.Background())
	return &Handler{
		core: core, sessions: sessions, events: events, opts: o, log: log,
		base: base, cancelBase: cancel,
		closingCtx: closing, closeNow: closeNow,
		live: make(map[string]*liveSession),
	}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		h.post(w, r)
	case http.MethodGet:
		h.get(w, r)
	case http.MethodDelete:
		h.delete(w, r)
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		h.fail(w, r, errMethod)
	}
}

// resolve finds the session a request names and checks that its principal
// owns it. version is the MCP-Protocol-Version header's value, already
// checked to be supported ("" when absent).
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
	s, err := h.sessions.Get(r.Context(), id)
	if errors.Is(err, session.ErrNotFound) {
		// [T §Session Management] 3: after termination, requests with that
		// ID MUST get 404. Unknown and malformed IDs name no session either.
		return nil, errSessionNotFound
	}
	if err != nil {
		return nil, httpkit.AsError(err)
	}
	if !ownedBy(s.Principal, principal.FromContext(r.Context())) {
		return nil, errForbidden
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
	if err := h.sessions.Touch(r.Context(), s.ID); err != nil && !errors.Is(err, session.ErrNotFound) {
		h.log.Warn("touching session", "session", session.Short(s.ID), "err", err)
	}
	return s, nil
}

// SessionExpired ends a session the Manager expired: its streams close, its
// calls are cancelled and the core forgets it. Wire it to
// session.Config.OnExpire for sessions whose Transport is TransportName.
func (h *Handler) SessionExpired(s *session.Session, reason session.ExpireReason) {
	h.endSession(context.Background(), s.ID, string(reason))
}

// enter counts a call or a tail in; it fails once Shutdown has begun,
// unless evenClosing is set.
func (h *Handler) enter(evenClosing bool) bool {
	h.actMu.Lock()
	defer h.actMu.Unlock()
	if h.closing && !evenClosing {
		return false
	}
	h.active++
	return true
}

func (h *Handler) leave() {
	h.actMu.Lock()
	defer h.actMu.Unlock()
	h.active--
	if h.active == 0 && h.idle != nil {
		close(h.idle)
		h.idle = nil
	}
}

func (h *Handler) isClosing() bool {
	h.actMu.Lock()
	defer h.actMu.Unlock()
	return h.closing
}

// waitIdle waits until no call or tail is running, or ctx ends.
func (h *Handler) waitIdle(ctx context.Context) error {
	h.actMu.Lock()
	if h.active == 0 {
		h.actMu.Unlock()
		return nil
	}
	if h.idle == nil {
		h.idle = make(chan struct{})
	}
	ch := h.idle
	h.actMu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown closes every stream and session this replica serves, for a
// clean stop (call it from http.Server.RegisterOnShutdown or before
// Server.Shutdown). New requests, GET streams and initializations get 503
// from then on; notifications, responses and DELETE are still taken, so
// that running calls can finish. GET streams end at once; running calls
// may finish and their streams deliver their responses until ctx ends;
// then the rest is cancelled. Finally every session is detached from the
// core. Session records and event logs stay in their stores, so a client
// can resume on another replica (with shared stores). Shutdown returns
// ctx.Err() if it had to cancel calls.
func (h *Handler) Shutdown(ctx context.Context) error {
	h.actMu.Lock()
	h.closing = true
	h.actMu.Unlock()
	h.closeNow() // GET streams end now

	err := h.waitIdle(ctx)
	h.cancelBase() // cancels every session context: calls and tails end
	if err != nil {
		h.log.Warn("shutdown deadline reached; cancelling running calls", "err", err)
		_ = h.waitIdle(context.Background()) // Core.HandleRequest returns once ctx is done
	}

	h.mu.Lock()
	live := h.live
	h.live = make(map[string]*liveSession)
	h.mu.Unlock()
	for id := range live {
		h.core.Detach(id)
	}
	return err
}
