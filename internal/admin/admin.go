// Package admin serves the admin listener: JSON endpoints for operators,
// on an address of their own, every request authenticated by the admin
// token. It offers the connection-management views of seed
// 003_1dc4ae673895e7d3.txt over the session core (package mcpsession):
//
//	GET  /stats      sessions by transport and by user, the oldest and newest,
//	                 messages and bytes sent (mcpsession.Stats); "mrtr": calls
//	                 parked for 2026-07-28 clients, park-limit refusals and
//	                 park timeouts (relay.MRTRStats)
//	POST /broadcast  {"method": "notifications/…", "params": {…},
//	                  "filter": {"users": […], "roles": […], "transports": […]}}
//	                 → {"matched", "delivered", "failed"}: the notification goes to
//	                 every selected session, on both transports
//	GET  /debug/pprof/…  Go's runtime profiles (net/http/pprof), only when
//	                 Options.PProf is set (config admin.pprof)
//
// The token is compared by its SHA-256 digest in constant time; the
// configuration holds only the digest or the name of an environment
// variable (see config.Admin).
package admin

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/mcpgate/mcpgate/internal/httpkit"
	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcpsession"
	"github.com/mcpgate/mcpgate/internal/secret"
)

// Sessions is what the admin endpoints need of the session core;
// *mcpsession.Hub implements it.
type Sessions interface {
	Stats() mcpsession.Stats
	Broadcast(ctx context.Context, msg *jsonrpc.Message, f mcpsession.Filter) (mcpsession.BroadcastResult, error)
}

// Options configures the admin handler.
type Options struct {
	// TokenDigest is the SHA-256 digest of the admin token. Required: a
	// zero digest is refused, so the admin API is never open.
	TokenDigest secret.Digest
	// MaxBodyBytes bounds a broadcast request's body. Zero means 1 MiB.
	MaxBodyBytes int64
	// Logger receives refused requests and broadcasts. Nil discards them.
	Logger *slog.Logger
	// MRTR reports the relay's multi-round-trip counts (relay.MRTRStats,
	// passed as a JSON-encodable value: this package does not import the
	// relay), shown as "mrtr" in GET /stats. Nil leaves them out.
	MRTR func() any
	// PProf mounts net/http/pprof under /debug/pprof/ (pprof.go), behind
	// the token like every endpoint. False means it is not served (404).
	PProf bool
}

// Realm is the protection space in the admin listener's challenges.
const Realm = "mcpgate-admin"

// Handler serves the admin endpoints.
type Handler struct {
	sessions Sessions
	mrtr     func() any
	digest   secret.Digest
	maxBody  int64
	log      *slog.Logger
	mux      *http.ServeMux
}

// errNoToken: New was given no token digest.
var errNoToken = errors.New("admin handler needs a token digest")

// New returns the admin handler. Mount it behind the edge middleware and a
// Host guard on the admin listener.
func New(sessions Sessions, opts Options) (*Handler, error) {
	if opts.TokenDigest.IsZero() {
		return nil, errNoToken
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{sessions: sessions, mrtr: opts.MRTR, digest: opts.TokenDigest, maxBody: opts.MaxBodyBytes, log: log, mux: http.NewServeMux()}
	h.mux.Handle("/stats", httpkit.Handle(log, only(http.MethodGet, h.stats)))
	h.mux.Handle("/broadcast", httpkit.Handle(log, only(http.MethodPost, h.broadcast)))
	if opts.PProf {
		mountPProf(h.mux) // pprof.go
	}
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		httpkit.WriteJSON(w, r, errNotFound)
	})
	return h, nil
}

// The admin API's errors. Messages are public.
var (
	errUnauthorized = httpkit.NewError(http.StatusUnauthorized, "unauthorized",
		"Unauthorized: send the admin token as Authorization: Bearer <token>")
	errNotFound    = httpkit.NewError(http.StatusNotFound, "not_found", "No such endpoint: the admin API serves GET /stats and POST /broadcast")
	errContentType = httpkit.NewError(http.StatusUnsupportedMediaType, "unsupported_media_type",
		"Unsupported Media Type: Content-Type must be application/json")
	errTooLarge = httpkit.NewError(http.StatusRequestEntityTooLarge, "payload_too_large", "Request body too large")
)

// only refuses other methods than method with 405.
func only(method string, h func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if r.Method != method {
			w.Header().Set("Allow", method)
			return httpkit.NewError(http.StatusMethodNotAllowed, "method_not_allowed", "Method Not Allowed: use "+method)
		}
		return h(w, r)
	}
}

// ServeHTTP authenticates the request, then serves it.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(r) {
		h.log.InfoContext(r.Context(), "admin request refused", "path", r.URL.Path,
			"request_id", httpkit.RequestIDFromContext(r.Context()))
		// RFC 6750 §3: a missing or wrong token gets 401 and a challenge.
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+Realm+`"`)
		httpkit.WriteJSON(w, r, errUnauthorized)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	h.mux.ServeHTTP(w, r)
}

// authorized compares the bearer token's digest with the admin token's in
// constant time.
func (h *Handler) authorized(r *http.Request) bool {
	auths := r.Header["Authorization"]
	if len(auths) != 1 {
		return false
	}
	scheme, tok, ok := strings.Cut(auths[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return false
	}
	d := secret.DigestOf(tok)
	return subtle.ConstantTimeCompare(d[:], h.digest[:]) == 1
}

// stats is mcpsession.Stats, plus "mrtr" (relay.MRTRStats: parked calls,
// park-limit refusals, park timeouts) when Options.MRTR is set.
type stats struct {
	mcpsession.Stats
	MRTR any `json:"mrtr,omitempty"`
}

func (h *Handler) stats(w http.ResponseWriter, r *http.Request) error {
	s := stats{Stats: h.sessions.Stats()}
	if h.mrtr != nil {
		s.MRTR = h.mrtr()
	}
	writeJSON(w, s)
	return nil
}

// broadcastRequest is the body of POST /broadcast.
type broadcastRequest struct {
	Method string            `json:"method"`
	Params json.RawMessage   `json:"params,omitempty"`
	Filter mcpsession.Filter `json:"filter"`
}

func (h *Handler) broadcast(w http.ResponseWriter, r *http.Request) error {
	if !mcpsession.JSONContentType(r.Header.Get("Content-Type")) {
		return errContentType
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, h.maxBody))
	dec.DisallowUnknownFields()
	var req broadcastRequest
	if err := dec.Decode(&req); err != nil {
		if httpkit.IsTooLarge(err) {
			return errTooLarge
		}
		return &httpkit.Error{Status: http.StatusBadRequest, Code: "bad_request",
			Message: "Bad Request: the body must be {\"method\", \"params\", \"filter\"}", Err: err}
	}
	if !strings.HasPrefix(req.Method, "notifications/") || len(req.Method) > 128 {
		return httpkit.NewError(http.StatusBadRequest, "bad_request",
			"Bad Request: method must name a notification (notifications/…)")
	}
	if p := strings.TrimSpace(string(req.Params)); p != "" && p != "null" && p[0] != '{' {
		return httpkit.NewError(http.StatusBadRequest, "bad_request", "Bad Request: params must be an object")
	}
	var params json.RawMessage
	if len(req.Params) > 0 && string(req.Params) != "null" {
		params = req.Params
	}
	res, err := h.sessions.Broadcast(r.Context(), jsonrpc.NewNotification(req.Method, params), req.Filter)
	if err != nil {
		return err
	}
	h.log.InfoContext(r.Context(), "admin broadcast", "method", req.Method, "users", req.Filter.Users,
		"roles", req.Filter.Roles, "transports", req.Filter.Transports, "delivered", res.Delivered,
		"request_id", httpkit.RequestIDFromContext(r.Context()))
	writeJSON(w, res)
	return nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
