package streamable

import (
	"context"
	"errors"
	"net/http"

	"github.com/mcpgate/mcpgate/internal/eventlog"
	"github.com/mcpgate/mcpgate/internal/httpkit"
	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/mcpsession"
	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/session"
)

// post serves a POST: one JSON-RPC message, or a batch in 2025-03-26
// sessions ([T §Sending Messages]).
func (h *Handler) post(w http.ResponseWriter, r *http.Request) {
	// [T §Sending Messages] 2: the client MUST list both types in Accept.
	if j, s := mcpsession.Accepts(r.Header["Accept"]); !j || !s {
		h.fail(w, r, errNotAcceptablePOST)
		return
	}
	if !mcpsession.JSONContentType(r.Header.Get("Content-Type")) {
		h.fail(w, r, errContentType)
		return
	}
	// docs/protocol-eras.md §3: a version header outside the session era
	// selects the stateless path (2026-07-28).
	if statelessByHeader(r) {
		h.stateless(w, r, nil)
		return
	}
	version, ok := mcpsession.VersionHeader(r)
	if !ok {
		h.fail(w, r, errVersion)
		return
	}
	// The session is checked before the body is read, so a request for an
	// unknown session costs no body.
	var s *session.Session
	_, present, _ := sessionHeader(r)
	if present {
		var herr *httpkit.Error
		if s, herr = h.resolve(r, version); herr != nil {
			h.fail(w, r, herr)
			return
		}
	}
	buf, herr := mcpsession.ReadBody(w, r, h.opts.MaxBodyBytes)
	if herr != nil {
		h.fail(w, r, herr)
		return
	}
	defer mcpsession.PutBuffer(buf)
	if !present {
		h.initialize(w, r, buf.Bytes())
		return
	}
	// [B0326 §Batching]: 2025-03-26 implementations MUST receive batches;
	// 2025-06-18 removed them ([CL06]): the body MUST be a single message.
	msgs, isBatch, herr := mcpsession.DecodeMessages(buf.Bytes(), mcp.AllowsBatch(s.ProtocolVersion), h.opts.MaxBatch)
	if herr != nil {
		h.fail(w, r, herr)
		return
	}
	requests := 0
	for _, m := range msgs {
		if m.Method == mcp.MethodInitialize {
			if isBatch {
				h.fail(w, r, errInitInBatch) // [L0326]: initialize MUST NOT be batched
			} else {
				h.fail(w, r, errInitInSession)
			}
			return
		}
		if m.Kind() == jsonrpc.KindRequest {
			requests++
		}
	}
	if requests > 0 && h.hub.IsClosing() {
		h.fail(w, r, errShuttingDown)
		return
	}
	ls := h.hub.Lookup(r.Context(), s)
	var ctx context.Context // for notifications and responses: not ended by a disconnection
	reqs := msgs[:0:0]
	for _, m := range msgs {
		kind := m.Kind()
		if kind != jsonrpc.KindRequest && ctx == nil {
			ctx = context.WithoutCancel(r.Context())
		}
		switch kind {
		case jsonrpc.KindNotification:
			h.core.HandleNotification(ctx, ls.Client(), m)
		case jsonrpc.KindResponse:
			h.core.HandleResponse(ctx, ls.Client(), m)
		default:
			if requests == len(msgs) {
				reqs = msgs
			} else {
				reqs = append(reqs, m)
			}
		}
	}
	if requests == 0 {
		// [T §Sending Messages] 4: notifications and responses only → 202
		// Accepted with no body.
		w.WriteHeader(http.StatusAccepted)
		return
	}
	h.serveCalls(w, r, ls, reqs, isBatch)
}

// initialize serves a POST without a session header, which must be a lone
// initialize request ([L §Initialization]; [T §Session Management] 1).
func (h *Handler) initialize(w http.ResponseWriter, r *http.Request, body []byte) {
	msgs, isBatch, rpcErr := jsonrpc.DecodeBatch(body, true)
	if rpcErr != nil {
		h.fail(w, r, mcpsession.DecodeError(rpcErr))
		return
	}
	if isBatch {
		for _, m := range msgs {
			if m.Method == mcp.MethodInitialize {
				h.fail(w, r, errInitInBatch)
				return
			}
		}
		h.fail(w, r, errSessionMissing)
		return
	}
	m := msgs[0]
	if m.Method != mcp.MethodInitialize && hasModernMeta(m.Params) {
		h.stateless(w, r, body) // docs/protocol-eras.md §3: fails the header checks
		return
	}
	if m.Method != mcp.MethodInitialize || m.Kind() != jsonrpc.KindRequest {
		h.fail(w, r, errSessionMissing)
		return
	}
	ls, res, rpcErr, err := h.hub.Create(r.Context(), principal.FromContext(r.Context()), TransportName, m.Params)
	switch {
	case err != nil:
		h.failErr(w, r, err)
		return
	case rpcErr != nil:
		writeJSON(w, jsonrpc.Encode(jsonrpc.NewErrorResponse(m.ID, rpcErr)))
		return
	}
	// [T §Session Management] 1: the session ID goes in the header of the
	// response that carries the InitializeResult.
	w.Header().Set(mcp.HeaderSessionID, ls.ID())
	body = jsonrpc.Encode(jsonrpc.NewResponse(m.ID, res.Result))
	writeJSON(w, body)
	ls.CountSent(1, int64(len(body)))
}

// call asks the core to answer one request and encodes the response. When
// no response is due (the client cancelled the request) the POST still
// needs one: an internal error.
func (h *Handler) call(ctx context.Context, ls *mcpsession.Live, req *jsonrpc.Message, pc *postCall) []byte {
	if resp := h.hub.Call(ctx, ls, req, pc); resp != nil {
		return resp
	}
	return mcpsession.InternalError(req.ID)
}

func (h *Handler) deleteStream(sessionID, stream string) {
	err := h.events.Delete(context.Background(), sessionID, stream)
	if err != nil && !errors.Is(err, eventlog.ErrNotFound) {
		h.log.Warn("deleting stream", "session", session.Short(sessionID), "stream", stream, "err", err)
	}
}

// writeJSON writes a 200 application/json response.
func writeJSON(w http.ResponseWriter, body []byte) {
	writeJSONStatus(w, http.StatusOK, body)
}
