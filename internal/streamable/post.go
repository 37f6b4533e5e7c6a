package streamable

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"

	"github.com/mcpgate/mcpgate/internal/eventlog"
	"github.com/mcpgate/mcpgate/internal/httpkit"
	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/relay"
	"github.com/mcpgate/mcpgate/internal/session"
)

// post serves a POST: one JSON-RPC message, or a batch in 2025-03-26
// sessions ([T §Sending Messages]).
func (h *Handler) post(w http.ResponseWriter, r *http.Request) {
	// [T §Sending Messages] 2: the client MUST list both types in Accept.
	if j, s := accepts(r.Header["Accept"]); !j || !s {
		h.fail(w, r, errNotAcceptablePOST)
		return
	}
	if !jsonContentType(r.Header.Get("Content-Type")) {
		h.fail(w, r, errContentType)
		return
	}
	version, ok := versionHeader(r)
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
	buf, herr := h.readBody(w, r)
	if herr != nil {
		h.fail(w, r, herr)
		return
	}
	defer putBuffer(buf)
	if !present {
		h.initialize(w, r, buf.Bytes())
		return
	}
	// [B0326 §Batching]: 2025-03-26 implementations MUST receive batches;
	// 2025-06-18 removed them ([CL06]): the body MUST be a single message.
	msgs, isBatch, rpcErr := jsonrpc.DecodeBatch(buf.Bytes(), mcp.AllowsBatch(s.ProtocolVersion))
	if rpcErr != nil {
		h.fail(w, r, rpcError(rpcErr))
		return
	}
	if len(msgs) > h.opts.MaxBatch {
		h.fail(w, r, errBatchTooLarge)
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
	if requests > 0 && h.isClosing() {
		h.fail(w, r, errShuttingDown)
		return
	}
	ls := h.lookupLive(r.Context(), s)
	var ctx context.Context // for notifications and responses: not ended by a disconnection
	reqs := msgs[:0:0]
	for _, m := range msgs {
		kind := m.Kind()
		if kind != jsonrpc.KindRequest && ctx == nil {
			ctx = context.WithoutCancel(r.Context())
		}
		switch kind {
		case jsonrpc.KindNotification:
			h.core.HandleNotification(ctx, ls.client, m)
		case jsonrpc.KindResponse:
			h.core.HandleResponse(ctx, ls.client, m)
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
		h.fail(w, r, rpcError(rpcErr))
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
	if m.Method != mcp.MethodInitialize || m.Kind() != jsonrpc.KindRequest {
		h.fail(w, r, errSessionMissing)
		return
	}
	if !h.enter(false) {
		h.fail(w, r, errShuttingDown)
		return
	}
	defer h.leave()
	p := principal.FromContext(r.Context())
	res, rpcErr := h.core.Initialize(r.Context(), p, m.Params)
	if rpcErr != nil {
		writeJSON(w, jsonrpc.Encode(jsonrpc.NewErrorResponse(m.ID, rpcErr)))
		return
	}
	s, err := h.sessions.Create(r.Context(), session.Session{
		Principal:       p,
		ProtocolVersion: res.ProtocolVersion,
		Capabilities:    res.Capabilities.Raw,
		ClientInfo:      res.ClientInfo,
		Transport:       TransportName,
	})
	if errors.Is(err, session.ErrLimit) {
		// Full: refuse the new session, never evict a live one.
		h.fail(w, r, errSessionLimit)
		return
	}
	if err != nil {
		h.failErr(w, r, err)
		return
	}
	if err := h.events.Create(r.Context(), s.ID, standaloneStream); err != nil {
		_ = h.sessions.Delete(r.Context(), s.ID)
		h.failErr(w, r, err)
		return
	}
	h.register(h.newLive(s, &res.Capabilities))
	h.log.Debug("session created", "session", session.Short(s.ID), "version", s.ProtocolVersion, "principal", p.Name)
	// [T §Session Management] 1: the session ID goes in the header of the
	// response that carries the InitializeResult.
	w.Header().Set(mcp.HeaderSessionID, s.ID)
	writeJSON(w, jsonrpc.Encode(jsonrpc.NewResponse(m.ID, res.Result)))
}

// call asks the core to answer one request and encodes the response. A
// panic or a nil response becomes an internal error for that request only.
func (h *Handler) call(ctx context.Context, ls *liveSession, req *jsonrpc.Message, out relay.Stream) (resp []byte) {
	defer func() {
		if v := recover(); v != nil {
			h.log.Error("panic in core", "method", req.Method, "panic", v, "stack", string(debug.Stack()),
				"request_id", httpkit.RequestIDFromContext(ctx))
			resp = internalError(req.ID)
		}
	}()
	m := h.core.HandleRequest(ctx, ls.client, req, out)
	if m == nil || m.Kind() != jsonrpc.KindResponse {
		h.log.Error("core returned no response", "method", req.Method, "request_id", httpkit.RequestIDFromContext(ctx))
		return internalError(req.ID)
	}
	if !bytes.Equal(m.ID, req.ID) {
		h.log.Error("core answered with another id", "method", req.Method, "request_id", httpkit.RequestIDFromContext(ctx))
		m.ID = req.ID
	}
	return jsonrpc.Encode(m)
}

func internalError(id []byte) []byte {
	return jsonrpc.Encode(jsonrpc.NewErrorResponse(id, jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error")))
}

func (h *Handler) deleteStream(sessionID, stream string) {
	err := h.events.Delete(context.Background(), sessionID, stream)
	if err != nil && !errors.Is(err, eventlog.ErrNotFound) {
		h.log.Warn("deleting stream", "session", session.Short(sessionID), "stream", stream, "err", err)
	}
}

// writeJSON writes a 200 application/json response.
func writeJSON(w http.ResponseWriter, body []byte) {
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

var bufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readBody reads the body into a pooled buffer, at most MaxBodyBytes.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) (*bytes.Buffer, *httpkit.Error) {
	if r.ContentLength > h.opts.MaxBodyBytes {
		return nil, errTooLarge
	}
	buf := bufferPool.Get().(*bytes.Buffer)
	buf.Reset()
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes)); err != nil {
		putBuffer(buf)
		if httpkit.IsTooLarge(err) {
			return nil, errTooLarge
		}
		return nil, &httpkit.Error{Status: errReadBody.Status, Code: errReadBody.Code, Message: errReadBody.Message, Err: err}
	}
	return buf, nil
}

// putBuffer returns a body buffer to the pool unless it grew large.
func putBuffer(b *bytes.Buffer) {
	if b.Cap() <= 64<<10 {
		bufferPool.Put(b)
	}
}
