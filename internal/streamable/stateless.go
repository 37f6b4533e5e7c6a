package streamable

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/mcpgate/mcpgate/internal/httpkit"
	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/mcpsession"
	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/relay"
)

// The 2026-07-28 stateless era on POST /mcp (docs/protocol-eras.md §2, §3).
// [SH26] is docs/specification/2026-07-28/basic/transports/streamable-http.mdx,
// [B26] …/basic/index.mdx.

// statelessByHeader reports whether a POST's MCP-Protocol-Version header
// names a revision not served with sessions (2026-07-28, or an unknown one
// such as v999.0.0): such a request takes the stateless path, which answers
// an unknown version with -32022 and the supported list
// [SH26 §Protocol Version Header, §Backward Compatibility].
func statelessByHeader(r *http.Request) bool {
	for _, v := range r.Header[mcp.HeaderProtocolVersion] {
		if v != "" && !mcp.Supported(v) {
			return true
		}
	}
	return false
}

// hasModernMeta reports whether params carry _meta with the stateless
// era's protocol version field: a request without a session header that is
// not initialize is then stateless (and fails the header checks when its
// MCP-Protocol-Version header is absent or names a session-era revision).
func hasModernMeta(params json.RawMessage) bool {
	meta, ok := jsonrpc.Lookup(params, "_meta")
	if !ok {
		return false
	}
	_, ok = jsonrpc.Lookup(meta, mcp.MetaProtocolVersion)
	return ok
}

// requestMeta is what the stateless ladder reads from params._meta
// [B26 §_meta "Per-request protocol fields"].
type requestMeta struct {
	ProtocolVersion    *string         `json:"io.modelcontextprotocol/protocolVersion"`
	ClientCapabilities json.RawMessage `json:"io.modelcontextprotocol/clientCapabilities"`
	ClientInfo         json.RawMessage `json:"io.modelcontextprotocol/clientInfo"`
	LogLevel           string          `json:"io.modelcontextprotocol/logLevel"`
}

// parseMeta reads params._meta; ok is false when the required fields are
// missing or of the wrong type.
func parseMeta(params json.RawMessage) (m requestMeta, ok bool) {
	raw, found := jsonrpc.Lookup(params, "_meta")
	if !found {
		return m, false
	}
	if m, ok, sure := parseMetaFast(raw); sure {
		return m, ok
	}
	m = requestMeta{}
	if json.Unmarshal(raw, &m) != nil || m.ProtocolVersion == nil {
		return m, false
	}
	caps := bytes.TrimSpace(m.ClientCapabilities)
	return m, len(caps) > 0 && caps[0] == '{'
}

// parseMetaFast is parseMeta's answer for raw (params._meta) without
// encoding/json, on every stateless request. It matches member names as
// encoding/json does (case-insensitively, the last of duplicates winning)
// and reports sure = false for what it leaves to encoding/json: names
// written with escapes or with non-ASCII bytes (Unicode case folding
// matches "ſ" to "s"), strings with escapes or non-ASCII, and values of
// the wrong type.
func parseMetaFast(raw []byte) (m requestMeta, ok, sure bool) {
	sure = true
	valid := jsonrpc.Members(raw, func(mb jsonrpc.Member) bool {
		if mb.KeyEscaped || !ascii(mb.Key) {
			sure = false
			return false
		}
		v := mb.Value
		switch {
		case jsonrpc.FoldEqual(mb.Key, mcp.MetaProtocolVersion):
			if string(v) == "null" {
				m.ProtocolVersion = nil
				return true
			}
			s, plain := jsonrpc.PlainString(v)
			if !plain {
				sure = false
				return false
			}
			str := string(s)
			m.ProtocolVersion = &str
		case jsonrpc.FoldEqual(mb.Key, mcp.MetaClientCapabilities):
			m.ClientCapabilities = json.RawMessage(v)
		case jsonrpc.FoldEqual(mb.Key, mcp.MetaClientInfo):
			m.ClientInfo = json.RawMessage(v)
		case jsonrpc.FoldEqual(mb.Key, mcp.MetaLogLevel):
			if string(v) == "null" {
				return true
			}
			s, plain := jsonrpc.PlainString(v)
			if !plain {
				sure = false
				return false
			}
			m.LogLevel = string(s)
		}
		return true
	})
	if !sure {
		return requestMeta{}, false, false
	}
	if !valid || m.ProtocolVersion == nil {
		return m, false, true
	}
	return m, len(m.ClientCapabilities) > 0 && m.ClientCapabilities[0] == '{', true
}

// ascii reports whether b is all ASCII.
func ascii(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// statelessSeq numbers stateless requests: the relay keys calls in flight
// by session and id, and stateless clients reuse ids freely.
var statelessSeq atomic.Uint64

// stateless serves a POST of the stateless era: the checks of
// docs/protocol-eras.md §2 in order, then one request through the core
// with the HTTP request's lifetime. body is the request body when the
// caller already read it, else nil.
func (h *Handler) stateless(w http.ResponseWriter, r *http.Request, body []byte) {
	if body == nil {
		buf, herr := mcpsession.ReadBody(w, r, h.opts.MaxBodyBytes)
		if herr != nil {
			h.fail(w, r, herr)
			return
		}
		defer mcpsession.PutBuffer(buf)
		body = buf.Bytes()
	}
	// [SH26 §Sending Messages] 4: one JSON-RPC message, no batch.
	msg, rpcErr := jsonrpc.Decode(body)
	if rpcErr != nil {
		h.fail(w, r, mcpsession.DecodeError(rpcErr))
		return
	}
	switch msg.Kind() {
	case jsonrpc.KindResponse:
		// No server→client requests exist in this era, so no responses.
		writeRPCError(w, http.StatusBadRequest, msg.ID, jsonrpc.NewError(jsonrpc.CodeInvalidRequest,
			"Invalid Request: responses are not accepted without a session"))
		return
	case jsonrpc.KindNotification:
		// [SH26 §Sending Messages] 5: accepted with 202 and no body; none
		// is defined for clients over HTTP in 2026-07-28, so it is ignored.
		w.WriteHeader(http.StatusAccepted)
		return
	}
	meta, e := checkStateless(r, msg)
	if e != nil {
		writeRPCError(w, statusOf(e), msg.ID, e)
		return
	}
	// Per-principal bounds (statelessgate.go), before any work is done.
	user := principal.FromContext(r.Context()).Key()
	isListen := msg.Method == mcp.MethodSubscriptionsListen
	if reason := h.gate.enter(user, isListen); reason != "" {
		if h.opts.OnStatelessRefused != nil {
			h.opts.OnStatelessRefused(reason)
		}
		writeRefused(w, msg.ID, reason)
		return
	}
	defer h.gate.leave(user, isListen)
	if !h.hub.Enter(false) {
		h.fail(w, r, errShuttingDown)
		return
	}
	defer h.hub.Leave()
	c := &relay.Client{
		SessionID:       "stateless-" + strconv.FormatUint(statelessSeq.Add(1), 36),
		Principal:       principal.FromContext(r.Context()),
		ProtocolVersion: *meta.ProtocolVersion,
		// The relay routes every server→client request to the call's
		// stream; the stream refuses them, recording which capability the
		// request needed (directStream.Send).
		Capabilities: relay.ClientCapabilities{Sampling: true, Elicitation: true, Roots: true, Raw: meta.ClientCapabilities},
		ClientInfo:   meta.ClientInfo,
		Stateless:    true,
		ParamHeaders: paramHeaders(r.Header),
	}
	out := newDirectStream(w, h.hub.WriteTimeout(), meta)
	if isListen {
		// A listen stream carries no response, so like the session GET
		// stream it ends when shutdown begins [SUB §Cancellation]; the
		// relay then returns and the stream is closed.
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		defer context.AfterFunc(h.hub.Closing(), cancel)()
		r = r.WithContext(ctx)
	}
	// [SH26 §Cancellation]: closing the response stream cancels the
	// request, so the call gets the HTTP request's context.
	stop := out.keepAlive(h.hub.Heartbeat())
	resp := h.statelessCall(r, c, msg, out)
	stop()
	out.finish(resp)
}

// statelessCall asks the core to answer msg; a panic becomes an internal
// error for this request only.
func (h *Handler) statelessCall(r *http.Request, c *relay.Client, msg *jsonrpc.Message, out relay.Stream) (resp *jsonrpc.Message) {
	defer func() {
		if v := recover(); v != nil {
			h.log.Error("panic in core", "method", msg.Method, "panic", v, "stack", string(debug.Stack()),
				"request_id", httpkit.RequestIDFromContext(r.Context()))
			resp = jsonrpc.NewErrorResponse(msg.ID, jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error"))
		}
	}()
	resp = h.core.HandleRequest(r.Context(), c, msg, out)
	if resp != nil && resp.Kind() == jsonrpc.KindResponse {
		resp.ID = msg.ID
	}
	return resp
}

// checkStateless applies the header and _meta rules 5–10 of
// docs/protocol-eras.md §2, in that order; a nil error means the request
// passes, and meta is its parsed params._meta (parsed once per request).
func checkStateless(r *http.Request, msg *jsonrpc.Message) (meta requestMeta, _ *jsonrpc.Error) {
	// [SH26 §Server Validation]: a missing or malformed
	// MCP-Protocol-Version is a header mismatch.
	vs := r.Header[mcp.HeaderProtocolVersion]
	if len(vs) != 1 || vs[0] == "" {
		return meta, headerMismatch("MCP-Protocol-Version must be sent exactly once")
	}
	// [B26 §_meta]: protocolVersion and clientCapabilities are required
	// on every request; clientInfo is optional.
	meta, ok := parseMeta(msg.Params)
	if !ok {
		return meta, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Invalid params: _meta must carry "+
			mcp.MetaProtocolVersion+" (a string) and "+mcp.MetaClientCapabilities+" (an object)")
	}
	// [SH26 §Protocol Version Header]: the header and _meta must agree.
	if *meta.ProtocolVersion != vs[0] {
		return meta, headerMismatch("MCP-Protocol-Version does not match _meta " + mcp.MetaProtocolVersion)
	}
	// [V26 §Protocol Version Negotiation]: UnsupportedProtocolVersionError
	// lists what is served statelessly.
	if !mcp.IsModern(vs[0]) {
		e := jsonrpc.NewError(mcp.CodeUnsupportedProtocolVersion, "Unsupported protocol version: "+truncate(vs[0], 64))
		e.Data = jsonrpc.MustRaw(map[string]any{"supported": mcp.ModernVersions, "requested": vs[0]})
		return meta, e
	}
	// [SH26 §Standard Request Headers, §Case Sensitivity]: Mcp-Method is
	// required and equals the body's method exactly (net/http matches the
	// header name case-insensitively).
	if ms := r.Header[mcp.HeaderMethod]; len(ms) != 1 || strings.TrimSpace(ms[0]) != msg.Method {
		return meta, headerMismatch("Mcp-Method must equal the request's method")
	}
	// [SH26 §Standard Request Headers, §Value Encoding]: Mcp-Name mirrors
	// params.name, params.uri or params.taskId.
	if problem := mcp.CheckNameHeader(r.Header[mcp.HeaderName], msg.Method, msg.Params); problem != "" {
		return meta, headerMismatch(problem)
	}
	return meta, nil
}

// paramHeaders collects the Mcp-Param-* headers by lower-cased suffix; nil
// when there are none (the common case costs no allocation).
func paramHeaders(hdr http.Header) map[string]string {
	var out map[string]string
	for k, vs := range hdr {
		if len(k) > len(mcp.HeaderParamPrefix) && strings.EqualFold(k[:len(mcp.HeaderParamPrefix)], mcp.HeaderParamPrefix) && len(vs) > 0 {
			if out == nil {
				out = map[string]string{}
			}
			out[strings.ToLower(k[len(mcp.HeaderParamPrefix):])] = strings.TrimSpace(vs[0])
		}
	}
	return out
}

func headerMismatch(msg string) *jsonrpc.Error {
	return jsonrpc.NewError(mcp.CodeHeaderMismatch, "Header mismatch: "+msg)
}

// statusOf is the HTTP status of a stateless JSON-RPC error
// (docs/protocol-eras.md §2 R1): -32601 → 404, the era's header, capability
// and version errors and invalid _meta → 400, others 200.
func statusOf(e *jsonrpc.Error) int {
	switch e.Code {
	case jsonrpc.CodeMethodNotFound:
		return http.StatusNotFound
	case mcp.CodeHeaderMismatch, mcp.CodeMissingClientCapability, mcp.CodeUnsupportedProtocolVersion:
		return http.StatusBadRequest
	}
	return http.StatusOK
}

// writeRPCError writes a JSON-RPC error response to id with status; the id
// is echoed ("sep-2575-http-server-error-jsonrpc-id").
func writeRPCError(w http.ResponseWriter, status int, id json.RawMessage, e *jsonrpc.Error) {
	if e.Code == jsonrpc.CodeInvalidParams && status == http.StatusOK {
		status = http.StatusBadRequest
	}
	writeJSONStatus(w, status, jsonrpc.Encode(jsonrpc.NewErrorResponse(id, e)))
}

func writeJSONStatus(w http.ResponseWriter, status int, body []byte) {
	hdr := w.Header()
	hdr["Content-Type"] = jsonContentType
	if len(body) > smallBody {
		hdr.Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(status)
	w.Write(body)
}

// jsonContentType is the Content-Type of JSON responses, shared by all of
// them: net/http copies a handler's header values before writing, and
// Header.Set and Add replace or grow a slice rather than write into it.
var jsonContentType = []string{"application/json"}

// smallBody is the largest body net/http holds until the handler returns
// (its bufferBeforeChunkingSize): for these it sets Content-Length itself,
// without the two allocations of setting it here.
const smallBody = 2048

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
