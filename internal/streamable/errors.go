package streamable

import (
	"encoding/json"
	"net/http"

	"github.com/mcpgate/mcpgate/internal/httpkit"
	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcpsession"
)

// The transport's HTTP errors. Messages are public.
var (
	errNotAcceptablePOST = httpkit.NewError(http.StatusNotAcceptable, "not_acceptable",
		"Not Acceptable: Accept must list both application/json and text/event-stream")
	errSessionMissing = httpkit.NewError(http.StatusBadRequest, "session_required",
		"Bad Request: Mcp-Session-Id header is required")
	errSessionHeader = httpkit.NewError(http.StatusBadRequest, "bad_request",
		"Bad Request: more than one Mcp-Session-Id header")
	errInitInSession = httpkit.NewError(http.StatusBadRequest, "already_initialized",
		"Bad Request: initialize must be sent without Mcp-Session-Id")
	errInitInBatch = httpkit.NewError(http.StatusBadRequest, "invalid_request",
		"Invalid Request: initialize must not be part of a JSON-RPC batch")
	errLastEventID = httpkit.NewError(http.StatusBadRequest, "invalid_last_event_id",
		"Bad Request: Last-Event-ID names no resumable event of this session")
	errMethod = httpkit.NewError(http.StatusMethodNotAllowed, "method_not_allowed", "Method Not Allowed")

	// The session core's errors, shared with the legacy transport.
	errSessionNotFound  = mcpsession.ErrNotFound
	errConflict         = mcpsession.ErrConflict
	errTooManyCalls     = mcpsession.ErrTooManyCalls
	errShuttingDown     = mcpsession.ErrShuttingDown
	errNotAcceptableGET = mcpsession.ErrNotAcceptableSSE
	errContentType      = mcpsession.ErrContentType
	errVersion          = mcpsession.ErrVersion
)

// rpcCode is the JSON-RPC code of an HTTP error on the MCP endpoint.
func rpcCode(e *httpkit.Error) int {
	switch {
	case e.Code == "parse_error":
		return jsonrpc.CodeParseError
	case e.Status >= 500:
		return jsonrpc.CodeInternalError
	}
	return jsonrpc.CodeInvalidRequest
}

// errorData is error.data of the transport's JSON-RPC errors.
type errorData struct {
	Error     string `json:"error"`
	RequestID string `json:"request_id,omitempty"`
}

// WriteError writes e as a JSON-RPC error response with id null and e's
// status ([T §Sending Messages] 4 and §Security Warning: the body MAY be a
// JSON-RPC error response that has no id). It is an httpkit.ErrorWriter, for
// the middleware in front of the MCP endpoint (Host/Origin guard, body limit).
func WriteError(w http.ResponseWriter, r *http.Request, e *httpkit.Error) {
	data, _ := json.Marshal(errorData{Error: e.Code, RequestID: httpkit.RequestIDFromContext(r.Context())})
	rpc := jsonrpc.NewError(rpcCode(e), e.Message)
	rpc.Data = data
	body := jsonrpc.Encode(jsonrpc.NewErrorResponse(nil, rpc))
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	if e.Status == http.StatusServiceUnavailable {
		h.Set("Retry-After", "5")
	}
	w.WriteHeader(e.Status)
	w.Write(body)
}

// fail logs e (with its internal cause, if any) and writes it.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, e *httpkit.Error) {
	httpkit.WriteError(w, r, h.log, WriteError, e)
}

// failErr is fail for an error that is not an *httpkit.Error: a 500 whose
// detail goes to the log only.
func (h *Handler) failErr(w http.ResponseWriter, r *http.Request, err error) {
	httpkit.WriteError(w, r, h.log, WriteError, err)
}
