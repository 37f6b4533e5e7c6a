package demo

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpgate/mcpgate/internal/httpkit"
	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// The demo server over Streamable HTTP, directly (`mcpgate demo-server
// --listen ADDR`): the same server as over stdio, with no gateway between
// it and the client, so that the benchmark can measure what HTTP costs a
// server of its own. It is small, not complete:
//
//	POST /mcp    session era (2025-11-25, 2025-06-18, 2025-03-26, 2024-11-05):
//	             initialize without Mcp-Session-Id opens a session (one demo
//	             server each) and answers with its Mcp-Session-Id; a request
//	             is answered as application/json when its response is all
//	             it produces, as text/event-stream when progress, log
//	             messages or server→client requests (sampling, elicitation,
//	             roots) come first; notifications and responses get 202.
//	             Modern era (--era modern, 2026-07-28): every POST on its own,
//	             on one shared demo server; closing the response cancels it.
//	GET /mcp     session era: the standalone stream (list_changed, resource
//	             updates); one per session (409 for a second).
//	DELETE /mcp  ends the session (204).
//
// Not supported: resumption (no event IDs, no Last-Event-ID, no priming
// event: a stream that breaks loses what it had not delivered), JSON-RPC
// batches (400), heartbeats on idle streams. Unknown sessions get 404,
// requests without one 400, over MaxSessions 503; bodies are bounded by
// MaxBodyBytes (413); sessions without requests for IdleTimeout end.
// A session-era request outlives its POST's connection (disconnection is
// not cancellation) but what it sends after that is dropped. The crash
// tool still ends the whole process, every session with it.
// ServeStreamable adds the Host/Origin guard (loopback names only on a
// loopback listener) and panic recovery in front of the handler.
// [T] = docs/specification/2025-11-25/basic/transports.mdx, §Streamable HTTP;
// [SH26] = docs/specification/2026-07-28/basic/transports/streamable-http.mdx.

// Path is the MCP endpoint of the HTTP server.
const Path = "/mcp"

// HTTPOptions configures NewHTTPHandler. A nil *HTTPOptions means all
// defaults.
type HTTPOptions struct {
	// Server configures the demo server: each session's in the session
	// era, the one every request shares when Server.Era is EraModern. Nil
	// means its defaults.
	Server *Options
	// MaxBodyBytes bounds a POST body; a larger one gets 413. Zero means
	// 4 MiB.
	MaxBodyBytes int64
	// MaxSessions bounds the open sessions; an initialize over it gets
	// 503. Zero means 10,000.
	MaxSessions int
	// IdleTimeout ends a session that has had no request and no open GET
	// stream for this long. Zero means 10 minutes.
	IdleTimeout time.Duration
	// WriteTimeout bounds each flush of an SSE stream. Zero means
	// sse.DefaultWriteTimeout.
	WriteTimeout time.Duration
}

// Defaults of HTTPOptions.
const (
	defaultMaxBodyBytes = 4 << 20
	defaultMaxSessions  = 10000
	defaultIdleTimeout  = 10 * time.Minute
)

// HTTPHandler serves the demo server on Path. Close ends its sessions.
type HTTPHandler struct {
	opts    HTTPOptions
	srvOpts Options // opts.Server with defaults
	log     *slog.Logger
	modern  *server // the shared server of the modern era; nil in the session era
	ctx     context.Context
	cancel  context.CancelFunc
	seq     atomic.Int64   // the ids of modern requests on the shared server
	active  sync.WaitGroup // requests being served (enter, leave)
	sweeper chan struct{}  // closed when the idle sweeper has returned

	mu sync.Mutex // guards the fields below
	// sessions are the open sessions by ID.
	sessions map[string]*httpSession
	// listens are the modern era's open subscriptions/listen streams, by
	// the idKey of the id they run under on the shared server.
	listens map[string]*exchange
	// closed is set by Close: nothing new starts.
	closed bool
}

// NewHTTPHandler returns the handler of the demo's Streamable HTTP
// endpoint. It starts a goroutine (the idle sweeper) that Close stops.
func NewHTTPHandler(opts *HTTPOptions) *HTTPHandler {
	var o HTTPOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = defaultMaxBodyBytes
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = defaultMaxSessions
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = defaultIdleTimeout
	}
	h := &HTTPHandler{
		opts:     o,
		srvOpts:  o.Server.withDefaults(),
		sessions: map[string]*httpSession{},
		listens:  map[string]*exchange{},
		sweeper:  make(chan struct{}),
	}
	h.log = h.srvOpts.Logger
	h.ctx, h.cancel = context.WithCancel(context.Background())
	if h.srvOpts.Era == EraModern {
		h.modern = newServer(h.srvOpts, io.Discard)
		h.modern.enterModern()
		h.modern.deliver = h.deliverModern // httpmodern.go
	}
	go h.sweep()
	return h
}

// ServeStreamable serves the demo server over Streamable HTTP on ln until
// ctx ends, then shuts down: open streams and sessions end, and requests
// get up to 5 seconds to finish. It returns nil after a shutdown caused by
// ctx. loopback says ln is bound to loopback only: Host and Origin must
// then be loopback names (DNS-rebinding protection, [T §Security Warning]);
// otherwise only browser Origins are refused.
func ServeStreamable(ctx context.Context, ln net.Listener, loopback bool, opts *HTTPOptions) error {
	h := NewHTTPHandler(opts)
	guard, err := httpkit.NewGuard(httpkit.GuardOptions{Loopback: loopback, WriteError: writeHTTPError, Logger: h.log})
	if err != nil {
		h.Close()
		return fmt.Errorf("building the host guard: %w", err)
	}
	srv := &http.Server{
		Handler:           httpkit.Chain(httpkit.Recover(h.log), guard.Handler)(h),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(h.log.Handler(), slog.LevelDebug),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	h.log.Info("demo server listening", "addr", ln.Addr().String(), "era", eraName(h.srvOpts.Era))
	select {
	case err = <-served:
		h.Close()
		return fmt.Errorf("serving HTTP: %w", err)
	case <-ctx.Done():
	}
	h.Close() // ends streams, so that Shutdown does not wait for them
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if err != nil {
		srv.Close()
	}
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

func eraName(era string) string {
	if era == EraModern {
		return mcp.Version20260728
	}
	return "session"
}

// Close ends every session and stream, waits for the requests being
// served, and stops the idle sweeper. The handler refuses requests after.
func (h *HTTPHandler) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	sessions := h.sessions
	h.sessions = map[string]*httpSession{}
	h.mu.Unlock()
	h.cancel()
	<-h.sweeper
	for _, s := range sessions {
		s.end()
	}
	h.active.Wait()
	if h.modern != nil {
		h.modern.shutdown()
	}
}

// enter counts a request as being served; false once Close has begun.
func (h *HTTPHandler) enter() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.active.Add(1)
	return true
}

func (h *HTTPHandler) leave() { h.active.Done() }

// ServeHTTP serves POST, GET and DELETE on Path.
func (h *HTTPHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != Path {
		httpkit.WriteJSON(w, r, errNoEndpoint)
		return
	}
	if !h.enter() {
		writeHTTPError(w, r, errStopping)
		return
	}
	defer h.leave()
	switch r.Method {
	case http.MethodPost:
		h.post(w, r)
	case http.MethodGet:
		h.get(w, r)
	case http.MethodDelete:
		h.delete(w, r)
	default:
		h.methodNotAllowed(w, r)
	}
}

// The transport's errors. Messages are public.
var (
	errNoEndpoint  = httpkit.NewError(http.StatusNotFound, "not_found", "Not Found: the MCP endpoint is "+Path)
	errStopping    = httpkit.NewError(http.StatusServiceUnavailable, "stopping", "Service Unavailable: the server is stopping")
	errMethod      = httpkit.NewError(http.StatusMethodNotAllowed, "method_not_allowed", "Method Not Allowed")
	errContentType = httpkit.NewError(http.StatusUnsupportedMediaType, "unsupported_media_type", "Unsupported Media Type: Content-Type must be application/json")
	errAcceptPost  = httpkit.NewError(http.StatusNotAcceptable, "not_acceptable", "Not Acceptable: Accept must list application/json and text/event-stream")
	errAcceptGet   = httpkit.NewError(http.StatusNotAcceptable, "not_acceptable", "Not Acceptable: Accept must list text/event-stream")
	errTooLarge    = httpkit.NewError(http.StatusRequestEntityTooLarge, "payload_too_large", "Request body too large")
	errBatch       = httpkit.NewError(http.StatusBadRequest, "batch_unsupported", "Bad Request: this server does not accept JSON-RPC batches")
	errNoSession   = httpkit.NewError(http.StatusBadRequest, "session_required", "Bad Request: Mcp-Session-Id header required")
	errBadSession  = httpkit.NewError(http.StatusBadRequest, "bad_session", "Bad Request: send one Mcp-Session-Id header")
	errUnknown     = httpkit.NewError(http.StatusNotFound, "session_not_found", "Session not found")
	errTooMany     = httpkit.NewError(http.StatusServiceUnavailable, "too_many_sessions", "Service Unavailable: too many sessions")
	errVersion     = httpkit.NewError(http.StatusBadRequest, "unsupported_protocol_version", "Bad Request: unsupported or mismatched MCP-Protocol-Version")
	errStreamOpen  = httpkit.NewError(http.StatusConflict, "stream_open", "Conflict: the session's GET stream is open already")
	errNoResponses = httpkit.NewError(http.StatusBadRequest, "no_responses", "Bad Request: responses are not accepted without a session")
	errInitialize  = httpkit.NewError(http.StatusBadRequest, "initialize_in_session", "Bad Request: initialize opens a session; send it without Mcp-Session-Id")
	errParse       = httpkit.NewError(http.StatusBadRequest, "parse_error", "Parse error")
)

func (h *HTTPHandler) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	allow := "GET, POST, DELETE"
	if h.modern != nil {
		allow = "POST" // [SH26]: no GET stream and no session to delete
	}
	w.Header().Set("Allow", allow)
	writeHTTPError(w, r, errMethod)
}

// writeHTTPError writes e as a JSON-RPC error response with id null and
// e's status [T §Sending Messages to the Server 4: the body MAY be a
// JSON-RPC error response that has no id].
func writeHTTPError(w http.ResponseWriter, r *http.Request, e *httpkit.Error) {
	writeErrorFor(w, e, nil)
}

// writeErrorFor is writeHTTPError answering the request id (nil: null).
func writeErrorFor(w http.ResponseWriter, e *httpkit.Error, id json.RawMessage) {
	code := jsonrpc.CodeInvalidRequest
	switch {
	case e.Code == "parse_error":
		code = jsonrpc.CodeParseError
	case e.Status >= 500:
		code = jsonrpc.CodeInternalError
	}
	rpc := jsonrpc.NewError(code, e.Message)
	rpc.Data = jsonrpc.MustRaw(map[string]string{"error": e.Code})
	if e.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	writeJSONMessage(w, e.Status, jsonrpc.NewErrorResponse(id, rpc))
}

// writeJSONMessage writes one message as an application/json body.
func writeJSONMessage(w http.ResponseWriter, status int, m *jsonrpc.Message) {
	body := jsonrpc.Encode(m)
	hdr := w.Header()
	hdr["Content-Type"] = []string{"application/json"}
	hdr["X-Content-Type-Options"] = []string{"nosniff"}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// readMessage checks a POST's headers and reads its one message.
func (h *HTTPHandler) readMessage(w http.ResponseWriter, r *http.Request) (*jsonrpc.Message, *httpkit.Error) {
	if ct := r.Header.Get("Content-Type"); ct != "application/json" { // the common case parses nothing
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return nil, errContentType
		}
	}
	// [T §Sending Messages to the Server 2]: the client MUST accept both.
	if json, sse := accepts(r.Header["Accept"]); !json || !sse {
		return nil, errAcceptPost
	}
	if r.ContentLength > h.opts.MaxBodyBytes {
		return nil, errTooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
	if err != nil {
		if httpkit.IsTooLarge(err) {
			return nil, errTooLarge
		}
		return nil, &httpkit.Error{Status: http.StatusBadRequest, Code: "bad_request", Message: "Bad Request: reading the body failed", Err: err}
	}
	if t := strings.TrimLeft(string(body[:min(len(body), 64)]), " \t\r\n"); strings.HasPrefix(t, "[") {
		return nil, errBatch
	}
	m, rpcErr := jsonrpc.Decode(body)
	if rpcErr != nil {
		e := *errParse
		e.Message = rpcErr.Message
		if rpcErr.Code != jsonrpc.CodeParseError {
			e.Code = "invalid_request"
		}
		return nil, &e
	}
	return m, nil
}

// accepts reports whether Accept values list application/json and
// text/event-stream (or wildcards covering them).
func accepts(values []string) (json, sse bool) {
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			mt, _, _ := strings.Cut(part, ";")
			switch strings.ToLower(strings.TrimSpace(mt)) {
			case "*/*":
				json, sse = true, true
			case "application/json", "application/*":
				json = true
			case "text/event-stream", "text/*":
				sse = true
			}
		}
	}
	return json, sse
}

// newSessionID returns 128 random bits as 26 base32 characters, visible
// ASCII as [T §Session Management 1] requires.
func newSessionID() string { return rand.Text() }
