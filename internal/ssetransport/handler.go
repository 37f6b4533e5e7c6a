package ssetransport

import (
	"log/slog"
	"net/http"
	"net/url"

	"github.com/mcpgate/mcpgate/internal/eventlog"
	"github.com/mcpgate/mcpgate/internal/httpkit"
	"github.com/mcpgate/mcpgate/internal/mcpsession"
)

// TransportName is the session.Session.Transport of sessions created here.
const TransportName = mcpsession.TransportSSE

// Options configures a Handler. The zero value of each field selects its
// default; nil Options means all defaults. Heartbeats, the bound on calls
// in flight per session and the write timeout are the session core's
// (mcpsession.Options), shared with Streamable HTTP.
type Options struct {
	// MessagesPath is the path of the message endpoint, as the endpoint
	// event announces it. Set it when a proxy serves the gateway under a
	// path prefix. Zero means "/messages".
	MessagesPath string
	// MaxBodyBytes is the largest POST body accepted; larger gets 413.
	// Zero means 4 MiB.
	MaxBodyBytes int64
	// MaxBatch is the most messages in one JSON-RPC batch (2025-03-26
	// sessions only). Zero means 64.
	MaxBatch int
	// Logger receives the transport's logs. Nil discards them.
	Logger *slog.Logger
}

// Defaults for Options.
const (
	DefaultMessagesPath = "/messages"
	DefaultMaxBodyBytes = 4 << 20
	DefaultMaxBatch     = 64
)

// Handler serves the two endpoints of the transport: Stream (GET /sse) and
// Messages (POST /messages). Mount both behind the same middleware as the
// Streamable HTTP endpoint.
type Handler struct {
	hub    *mcpsession.Hub
	core   mcpsession.Core
	events eventlog.Log
	opts   Options
	log    *slog.Logger
}

// New returns a Handler serving the sessions of hub. Shutdown and idle
// expiry are the hub's (mcpsession.Hub.Shutdown, SessionExpired).
func New(hub *mcpsession.Hub, opts *Options) *Handler {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.MessagesPath == "" {
		o.MessagesPath = DefaultMessagesPath
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{hub: hub, core: hub.Core(), events: hub.Events(), opts: o, log: log}
}

// Stream is the SSE endpoint (GET /sse).
func (h *Handler) Stream() http.Handler { return http.HandlerFunc(h.stream) }

// Messages is the message endpoint (POST /messages?sessionId=…).
func (h *Handler) Messages() http.Handler { return http.HandlerFunc(h.messages) }

// endpoint is the data of the endpoint event: the URI to POST to
// ([T1105 §HTTP with SSE]), relative, so that clients resolve it against
// the URL they connected to.
func (h *Handler) endpoint(sessionID string) []byte {
	return []byte(h.opts.MessagesPath + "?sessionId=" + url.QueryEscape(sessionID))
}

// The transport's own HTTP errors. Messages are public; the session errors
// (404, 403, 429, 503) are the session core's.
var (
	errNotAcceptablePOST = httpkit.NewError(http.StatusNotAcceptable, "not_acceptable",
		"Not Acceptable: Accept must allow application/json")
	errSessionMissing = httpkit.NewError(http.StatusBadRequest, "session_required",
		"Bad Request: the sessionId query parameter is required")
	errSessionParam = httpkit.NewError(http.StatusBadRequest, "bad_request",
		"Bad Request: more than one sessionId query parameter")
	errNotInitialized = httpkit.NewError(http.StatusBadRequest, "not_initialized",
		"Bad Request: the session is not initialized; POST a lone initialize request first")
	errMethodGET  = httpkit.NewError(http.StatusMethodNotAllowed, "method_not_allowed", "Method Not Allowed: use GET")
	errMethodPOST = httpkit.NewError(http.StatusMethodNotAllowed, "method_not_allowed", "Method Not Allowed: use POST")
)

// WriteError writes e as the transport's JSON error body
// ({"error", "message", "request_id"}) with e's status, and Retry-After on
// 503. It is an httpkit.ErrorWriter, for the middleware in front of the
// endpoints (Host/Origin guard, authentication, limits).
func WriteError(w http.ResponseWriter, r *http.Request, e *httpkit.Error) {
	if e.Status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "5")
	}
	httpkit.WriteJSON(w, r, e)
}

// fail logs e (with its internal cause, if any) and writes it.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	httpkit.WriteError(w, r, h.log, WriteError, err)
}
