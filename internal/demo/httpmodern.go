package demo

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// The modern era (2026-07-28) over HTTP: every POST is one request on the
// shared demo server, with no session [SH26 §Sending Messages]. Clients
// reuse request ids freely, so each request runs under an id of the
// server's own and its response (and the subscriptionId tag of a listen's
// notifications) gets the client's id back. Closing the response cancels
// the request [SH26 §Cancellation].

// postModern serves a POST of the modern era.
func (h *HTTPHandler) postModern(w http.ResponseWriter, r *http.Request, m *jsonrpc.Message) {
	switch m.Kind() {
	case jsonrpc.KindResponse:
		// The era has no server→client requests, so no responses.
		writeHTTPError(w, r, errNoResponses)
		return
	case jsonrpc.KindNotification:
		// [SH26 §Sending Messages]: accepted with 202; none is defined for
		// clients over HTTP, so it is ignored.
		w.WriteHeader(http.StatusAccepted)
		return
	}
	if e := checkModernHeaders(r, m); e != nil {
		resp := jsonrpc.NewErrorResponse(m.ID, e)
		writeJSONMessage(w, statusOfResponse(resp, true), resp)
		return
	}
	clientID := m.ID
	m.ID = json.RawMessage(strconv.AppendInt(nil, h.seq.Add(1), 10))
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	defer context.AfterFunc(h.ctx, cancel)() // Close ends listens too
	e := newExchange()
	retag := func(msg *jsonrpc.Message) *jsonrpc.Message {
		if msg.Kind() == jsonrpc.KindResponse {
			c := *msg
			c.ID = clientID
			return &c
		}
		return msg
	}
	if m.Method == mcp.MethodSubscriptionsListen {
		key := idKey(m.ID)
		h.mu.Lock()
		h.listens[key] = e
		h.mu.Unlock()
		defer func() {
			h.mu.Lock()
			delete(h.listens, key)
			h.mu.Unlock()
		}()
		retag = func(msg *jsonrpc.Message) *jsonrpc.Message {
			if msg.Kind() == jsonrpc.KindNotification {
				return withSubscriptionID(msg, clientID)
			}
			c := *msg
			c.ID = clientID
			return &c
		}
	}
	h.serveRequest(w, r, h.modern, ctx, m, e, retag) // httpstream.go
}

// deliverModern routes what the shared server sends outside any request:
// the change notifications of listens, tagged with the listen's id
// (listen_modern.go, tasks_notify.go). Anything else has no stream.
func (h *HTTPHandler) deliverModern(m *jsonrpc.Message) {
	var e *exchange
	if meta, ok := jsonrpc.Lookup(m.Params, "_meta"); ok {
		if sub, ok := jsonrpc.Lookup(meta, mcp.MetaSubscriptionID); ok {
			h.mu.Lock()
			e = h.listens[idKey(sub)]
			h.mu.Unlock()
		}
	}
	if e == nil || !e.push(m) {
		h.log.Debug("message dropped: no stream", "method", m.Method)
	}
}

// withSubscriptionID returns notification m with _meta's subscriptionId
// set to id.
func withSubscriptionID(m *jsonrpc.Message, id json.RawMessage) *jsonrpc.Message {
	var params map[string]json.RawMessage
	if json.Unmarshal(m.Params, &params) != nil {
		return m
	}
	var meta map[string]json.RawMessage
	if json.Unmarshal(params["_meta"], &meta) != nil || meta == nil {
		return m
	}
	meta[mcp.MetaSubscriptionID] = id
	params["_meta"] = jsonrpc.MustRaw(meta)
	return jsonrpc.NewNotification(m.Method, jsonrpc.MustRaw(params))
}

// checkModernHeaders applies the header rules of [SH26 §Server
// Validation]: MCP-Protocol-Version sent once and equal to _meta's
// protocolVersion when that is given (the server answers its absence and
// unsupported versions itself, era_modern.go), Mcp-Method equal to the
// method, Mcp-Name equal to params.name, .uri or .taskId when present.
func checkModernHeaders(r *http.Request, m *jsonrpc.Message) *jsonrpc.Error {
	vs := r.Header[mcp.HeaderProtocolVersion]
	if len(vs) != 1 || vs[0] == "" {
		return headerMismatch("MCP-Protocol-Version must be sent exactly once")
	}
	if meta, ok := jsonrpc.Lookup(m.Params, "_meta"); ok {
		if raw, ok := jsonrpc.Lookup(meta, mcp.MetaProtocolVersion); ok {
			var v string
			if json.Unmarshal(raw, &v) == nil && v != vs[0] {
				return headerMismatch("MCP-Protocol-Version does not match _meta " + mcp.MetaProtocolVersion)
			}
		}
	}
	if ms := r.Header[mcp.HeaderMethod]; len(ms) != 1 || strings.TrimSpace(ms[0]) != m.Method {
		return headerMismatch("Mcp-Method must equal the request's method")
	}
	if problem := mcp.CheckNameHeader(r.Header[mcp.HeaderName], m.Method, m.Params); problem != "" {
		return headerMismatch(problem)
	}
	return nil
}

func headerMismatch(msg string) *jsonrpc.Error {
	return jsonrpc.NewError(mcp.CodeHeaderMismatch, "Header mismatch: "+msg)
}

// statusOfResponse is the HTTP status of a JSON response: 200 in the
// session era; in the modern era -32601 gets 404 and the era's header,
// capability and version errors and invalid params 400
// (docs/protocol-eras.md §2 R1).
func statusOfResponse(resp *jsonrpc.Message, modern bool) int {
	if !modern || resp.Error == nil {
		return http.StatusOK
	}
	switch resp.Error.Code {
	case jsonrpc.CodeMethodNotFound:
		return http.StatusNotFound
	case mcp.CodeHeaderMismatch, mcp.CodeMissingClientCapability, mcp.CodeUnsupportedProtocolVersion, jsonrpc.CodeInvalidParams:
		return http.StatusBadRequest
	}
	return http.StatusOK
}
