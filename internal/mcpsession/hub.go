package mcpsession

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/mcpgate/mcpgate/internal/eventlog"
	"github.com/mcpgate/mcpgate/internal/httpkit"
	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/relay"
	"github.com/mcpgate/mcpgate/internal/session"
	"github.com/mcpgate/mcpgate/internal/workpool"
)

// Core is the MCP core behind the transports; package relay implements it.
// The transports call it with decoded messages and never interpret MCP
// beyond the initialize method.
type Core interface {
	// Initialize negotiates a new session from the initialize request's
	// params. An error is sent to the client as the JSON-RPC error response
	// to initialize, and no session is created.
	Initialize(ctx context.Context, p principal.Principal, params json.RawMessage) (*relay.InitializeResult, *jsonrpc.Error)
	// Attach registers a client session so the relay can reach it; Detach
	// forgets it. A session is attached on the replica that serves it (after
	// initialize, or on the first request a replica serves for a session
	// created elsewhere) and detached when it ends or at Shutdown.
	Attach(c *relay.Client)
	Detach(sessionID string)
	// HandleRequest answers one client request. Messages related to it
	// (progress, logging, server→client requests) go to out before it
	// returns the response; out refuses responses, and fails when the event
	// log refuses the message (bounds). ctx is not cancelled when the HTTP
	// client disconnects (MCP 2025: disconnection is not cancellation) but
	// is when the session ends; it carries the request's values (principal,
	// request ID). It must return promptly once ctx is done. It returns nil
	// when no response is due (the client cancelled the request).
	HandleRequest(ctx context.Context, c *relay.Client, msg *jsonrpc.Message, out relay.Stream) *jsonrpc.Message
	// HandleNotification and HandleResponse take the client's notifications
	// and its responses to server→client requests. They are called before
	// the POST that carried them is answered with 202, so they must not
	// block for long.
	HandleNotification(ctx context.Context, c *relay.Client, msg *jsonrpc.Message)
	HandleResponse(ctx context.Context, c *relay.Client, msg *jsonrpc.Message)
}

// Transport names: session.Session.Transport of the sessions each creates.
const (
	TransportStreamable = "streamable"
	TransportSSE        = "sse"
)

// StandaloneStream is the ID of every session's standalone stream: the one
// a Streamable HTTP GET without Last-Event-ID reads ([T §Listening for
// Messages]), and the one stream of a 2024-11-05 session. Random stream IDs
// (eventlog.NewStreamID) are 16 characters, so they never collide with it.
const StandaloneStream = "0"

// Options configures a Hub. The zero value of each field selects its
// default; nil Options means all defaults.
type Options struct {
	// MaxConcurrentCalls is the most calls one session may have in flight
	// on this replica (a Streamable HTTP POST carrying requests counts as
	// one call, a 2024-11-05 request as one); more get 429. Keep it below
	// the event log's MaxStreams. Zero means 64.
	MaxConcurrentCalls int
	// Heartbeat is how long an SSE stream may stay silent before it gets a
	// ": ping" comment, which also marks its session active. Zero means 15
	// seconds; negative disables heartbeats.
	Heartbeat time.Duration
	// WriteTimeout bounds each write to an SSE stream: a client that does
	// not take the bytes in time is disconnected. Zero means
	// sse.DefaultWriteTimeout; negative means no bound.
	WriteTimeout time.Duration
	// Logger receives the hub's logs. Nil discards them.
	Logger *slog.Logger
	// DisableParking keeps every SSE stream on its handler's goroutine.
	// By default an idle HTTP/1.x stream's connection is taken over from
	// net/http and served by the hub's few writer goroutines (see Parking),
	// which makes an idle stream cost a fraction of what it does on its
	// handler's goroutine. Zero means parking on.
	DisableParking bool
	// Reserve, if set, is asked before a session is created whether its
	// principal's upstream resources (per-user processes) can be had; an
	// error refuses the session (503 with Retry-After on Streamable HTTP).
	// Nil reserves nothing.
	Reserve func(ctx context.Context, p principal.Principal) error
}

// Defaults for Options.
const (
	DefaultMaxConcurrentCalls = 64
	DefaultHeartbeat          = 15 * time.Second
)

// The session errors every transport answers with. Messages are public.
var (
	ErrNotFound  = httpkit.NewError(http.StatusNotFound, "session_not_found", "Session not found")
	ErrForbidden = httpkit.NewError(http.StatusForbidden, "forbidden",
		"Forbidden: the session belongs to another principal")
	ErrTooManyCalls = httpkit.NewError(http.StatusTooManyRequests, "too_many_requests",
		"Too Many Requests: too many concurrent requests in this session")
	ErrSessionLimit = httpkit.NewError(http.StatusServiceUnavailable, "session_limit",
		"Service Unavailable: the gateway holds its maximum number of sessions")
	ErrShuttingDown = httpkit.NewError(http.StatusServiceUnavailable, "shutting_down",
		"Service Unavailable: the gateway is shutting down")
	ErrUpstreamCapacity = httpkit.NewError(http.StatusServiceUnavailable, "upstream_capacity",
		"Service Unavailable: no room for another upstream process; retry later")
)

// Hub is the session core of one replica. Both transports use the same Hub.
type Hub struct {
	core     Core
	sessions *session.Manager
	events   eventlog.Log
	opts     Options
	log      *slog.Logger

	base       context.Context // parent of every session context
	cancelBase context.CancelFunc
	closingCtx context.Context // done once Shutdown begins
	closeNow   context.CancelFunc

	mu      sync.RWMutex // guards live and retired
	live    map[string]*Live
	retired map[string]Sent // what ended sessions sent, by transport

	pool   workpool.Pool // the worker goroutines of Go
	parker *parker       // parked SSE streams

	actMu   sync.Mutex    // guards the fields below
	closing bool          // Shutdown has begun: no new calls or streams
	active  int           // calls and stream writers counted by Enter
	idle    chan struct{} // closed when active drops to zero; nil when nobody waits
}

// New returns a Hub. The Manager should report expiries to the hub's
// SessionExpired (the composition root wires session.Config.OnExpire).
func New(core Core, sessions *session.Manager, events eventlog.Log, opts *Options) *Hub {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.MaxConcurrentCalls <= 0 {
		o.MaxConcurrentCalls = DefaultMaxConcurrentCalls
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base, cancel := context.WithCancel(context.Background())
	closing, closeNow := context.WithCancel(context.Background())
	h := &Hub{
		core: core, sessions: sessions, events: events, opts: o, log: log,
		base: base, cancelBase: cancel,
		closingCtx: closing, closeNow: closeNow,
		live:    make(map[string]*Live),
		retired: make(map[string]Sent),
	}
	h.pool.Idle = workerIdle
	h.parker = newParker(h)
	return h
}

// Core returns the MCP core.
func (h *Hub) Core() Core { return h.core }

// Events returns the event log.
func (h *Hub) Events() eventlog.Log { return h.events }

// Sessions returns the session manager.
func (h *Hub) Sessions() *session.Manager { return h.sessions }

// Heartbeat returns the heartbeat interval (negative: none).
func (h *Hub) Heartbeat() time.Duration { return h.opts.Heartbeat }

// WriteTimeout returns the bound on each SSE write, for sse.Start.
func (h *Hub) WriteTimeout() time.Duration { return h.opts.WriteTimeout }

// Enter counts a call or a stream writer in, so that Shutdown waits for
// it; it fails once Shutdown has begun, unless evenClosing is set. Every
// successful Enter needs a Leave.
func (h *Hub) Enter(evenClosing bool) bool {
	h.actMu.Lock()
	defer h.actMu.Unlock()
	if h.closing && !evenClosing {
		return false
	}
	h.active++
	return true
}

// Leave counts out what Enter counted in.
func (h *Hub) Leave() {
	h.actMu.Lock()
	defer h.actMu.Unlock()
	h.active--
	if h.active == 0 && h.idle != nil {
		close(h.idle)
		h.idle = nil
	}
}

// IsClosing reports whether Shutdown has begun.
func (h *Hub) IsClosing() bool {
	h.actMu.Lock()
	defer h.actMu.Unlock()
	return h.closing
}

// Closing returns a context that is done once Shutdown begins: streams
// that carry no responses (the Streamable HTTP GET stream) end with it.
func (h *Hub) Closing() context.Context { return h.closingCtx }

// WaitIdle waits until nothing counted by Enter is running, or ctx ends.
func (h *Hub) WaitIdle(ctx context.Context) error {
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
// clean stop (call it before http.Server.Shutdown). New sessions, calls and
// GET streams are refused with ErrShuttingDown from then on; notifications,
// responses and DELETE are still taken, so that running calls can finish.
// Streams that carry no responses end at once; running calls may finish
// and deliver their responses until ctx ends; then the rest is cancelled,
// which ends every remaining stream (a 2024-11-05 stream first writes what
// its session's calls sent). Finally every session is detached from the
// core. Session records and event logs stay in their stores, so that a
// Streamable HTTP client can resume on another replica. Shutdown returns
// ctx.Err() if it had to cancel calls. Calling it again waits again.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.actMu.Lock()
	h.closing = true
	h.actMu.Unlock()
	h.closeNow()
	h.pool.Stop() // idle workers exit; busy ones after their task

	err := h.WaitIdle(ctx)
	h.cancelBase() // cancels every session context: calls and streams end
	if err != nil {
		h.log.Warn("shutdown deadline reached; cancelling running calls", "err", err)
		_ = h.WaitIdle(context.Background()) // Core.HandleRequest returns once ctx is done
	}
	// Parked streams end with their sessions (cancelled above); 2024-11-05
	// ones first write what their calls answered.
	h.parker.shutdown(ctx)

	h.mu.Lock()
	live := h.live
	h.live = make(map[string]*Live)
	for _, ls := range live {
		h.retireLocked(ls)
	}
	h.mu.Unlock()
	for id, ls := range live {
		if ls.Client() != nil {
			h.core.Detach(id)
		}
	}
	h.pool.Wait() // idle workers exit once closing; busy ones have left (WaitIdle)
	return err
}
