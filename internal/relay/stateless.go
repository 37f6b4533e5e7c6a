package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// The 2026-07-28 stateless era in front of session-era upstreams
// (docs/protocol-eras.md §2 R2–R5, §4.4). [B26] is
// docs/specification/2026-07-28/basic/index.mdx, [SH26] its
// transports/streamable-http.mdx, [CACHE] server/utilities/caching.mdx.

// handleStateless answers one request of a stateless client. The transport
// has checked the wire rules it can check alone (headers, _meta); this
// serves the methods of the era and shapes results and errors for it.
func (r *Relay) handleStateless(ctx context.Context, c *Client, msg *jsonrpc.Message, out Stream) *jsonrpc.Message {
	var (
		result json.RawMessage
		rpcErr *jsonrpc.Error
		cache  bool // the result is a CacheableResult [CACHE §Cacheable Results]
	)
	switch msg.Method {
	case mcp.MethodServerDiscover:
		result = r.discoverResult(r.discoverTTL(c))
	case mcp.MethodToolsList, mcp.MethodPromptsList, mcp.MethodResourcesList, mcp.MethodResourcesTemplatesList:
		// Pre-encoded in this era's shape (freshness.go): not reshaped.
		if result, rpcErr = r.statelessList(ctx, c, msg); rpcErr == nil {
			return jsonrpc.NewResponse(msg.ID, result)
		}
	case mcp.MethodResourcesRead:
		cache = true
		result, rpcErr = r.statelessRead(ctx, c, msg, out) // readcache.go
	case mcp.MethodToolsCall:
		if rpcErr = r.checkParamHeaders(ctx, c, msg.Params); rpcErr == nil {
			result, rpcErr = r.dispatch(ctx, c, msg, out)
		}
	case mcp.MethodPromptsGet, mcp.MethodCompletionComplete:
		result, rpcErr = r.dispatch(ctx, c, msg, out)
	case mcp.MethodSubscriptionsListen:
		rpcErr = r.listen(ctx, c, msg, out)
	case mcp.MethodTasksGet, mcp.MethodTasksUpdate, mcp.MethodTasksCancel:
		result, rpcErr = r.statelessTask(ctx, c, msg, out) // tasks.go
	case mcp.MethodInitialize:
		// [V26 §Protocol Version Negotiation]: a server that does not serve
		// the session era to this client names the versions it does.
		rpcErr = jsonrpc.NewError(jsonrpc.CodeMethodNotFound,
			"Method not found: initialize is not used with protocol version "+strings.Join(mcp.ModernVersions, ", "))
	default:
		// ping, logging/setLevel and resources/(un)subscribe were removed
		// in 2026-07-28 ([CL26] Major 4, 5); the tasks extension is not
		// served yet.
		rpcErr = jsonrpc.NewError(jsonrpc.CodeMethodNotFound, "Method not found: "+truncate(msg.Method, 100))
	}
	if rpcErr == errNoResponse || ctx.Err() != nil {
		// [SH26 §Cancellation]: closing the response stream cancels the
		// request; nobody is left to read an answer.
		return nil
	}
	if rpcErr != nil {
		return jsonrpc.NewErrorResponse(msg.ID, statelessError(rpcErr))
	}
	return jsonrpc.NewResponse(msg.ID, r.shapeResult(result, cache, msg.Method))
}

// statelessError translates an error for a 2026-07-28 client [B26 §Error
// Codes]: resource-not-found is -32602 (implementations MUST NOT emit
// -32002; data.uri kept), and the gateway's -32001 from the legacy
// implementation-defined range becomes an internal error.
func statelessError(e *jsonrpc.Error) *jsonrpc.Error {
	switch e.Code {
	case jsonrpc.CodeResourceNotFound:
		return &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: e.Message, Data: e.Data}
	case jsonrpc.CodeUpstreamUnavailable:
		return &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: e.Message, Data: e.Data}
	}
	return e
}

// shapeResult adds what a 2026-07-28 result requires and a session-era
// upstream's lacks: resultType [B26 §ResultType] and, on cacheable results
// (resources/read; lists are pre-encoded, freshness.go), ttlMs and
// cacheScope [CACHE]. Fields already present are kept; the result is
// spliced, not re-encoded.
func (r *Relay) shapeResult(result json.RawMessage, cache bool, _ string) json.RawMessage {
	if !cache {
		return addMembers(result, resultTypeComplete)
	}
	// A read result of a session-era upstream carries no freshness: ttlMs
	// 0, and private, since what a read returns may depend on the user.
	return addMembers(result, resultTypeComplete, ttlZero, cacheScopePrivate)
}

type member struct{ key, value string }

var (
	resultTypeComplete = member{"resultType", `"complete"`}
	ttlZero            = member{"ttlMs", "0"}
	cacheScopePrivate  = member{"cacheScope", `"private"`}
)

// addMembers returns obj with each member whose key it lacks at top level
// inserted after its opening brace. obj is returned unchanged when it is
// not an object or lacks nothing.
func addMembers(obj json.RawMessage, add ...member) json.RawMessage {
	var have [4]bool
	if !jsonrpc.Members(obj, func(m jsonrpc.Member) bool {
		for i, a := range add {
			if string(m.Key) == a.key {
				have[i] = true
			}
		}
		return true
	}) {
		return obj
	}
	size := 0
	for i, a := range add {
		if !have[i] {
			size += len(a.key) + len(a.value) + 4
		}
	}
	if size == 0 {
		return obj
	}
	open := bytes.IndexByte(obj, '{')
	out := make([]byte, 0, len(obj)+size)
	out = append(out, obj[:open+1]...)
	for i, a := range add {
		if !have[i] {
			out = append(out, '"')
			out = append(out, a.key...)
			out = append(out, `":`...)
			out = append(out, a.value...)
			out = append(out, ',')
		}
	}
	rest := obj[open+1:]
	if t := bytes.TrimLeft(rest, " \t\r\n"); len(t) > 0 && t[0] == '}' {
		out = out[:len(out)-1] // the object was empty: no comma before '}'
	}
	return append(out, rest...)
}

// discoverResult is the gateway's own DiscoverResult [DISC; S26
// DiscoverResult]: every version the endpoint serves, the capabilities the
// session era's InitializeResult advertises (the union of the upstreams'),
// the instructions, and the gateway's identity in _meta [B26 §_meta
// "Per-response protocol fields"].
//
// ttlMs is that of the lists (discoverTTL); the result is encoded once per
// InitializeResult and ttlMs.
func (r *Relay) discoverResult(ttlMs int64) json.RawMessage {
	src := r.initializeResult(mcp.Latest) // the same bytes while no upstream changed
	if c := r.discover.Load(); c != nil && c.ttlMs == ttlMs && len(src) > 0 && len(c.src) > 0 && &c.src[0] == &src[0] {
		return c.out
	}
	out := r.buildDiscoverResult(src, ttlMs)
	r.discover.Store(&discoverEntry{src: src, ttlMs: ttlMs, out: out})
	return out
}

// discoverEntry caches the last DiscoverResult built, with the
// InitializeResult and ttlMs it was built from.
type discoverEntry struct {
	src, out json.RawMessage
	ttlMs    int64
}

func (r *Relay) buildDiscoverResult(src json.RawMessage, ttlMs int64) json.RawMessage {
	var init struct {
		Capabilities json.RawMessage `json:"capabilities"`
		Instructions string          `json:"instructions,omitempty"`
	}
	_ = json.Unmarshal(src, &init)
	init.Capabilities = r.withTasksExtension(init.Capabilities) // tasks.go
	scope := "public"
	if r.hasPerUser {
		scope = "private"
	}
	return jsonrpc.MustRaw(struct {
		SupportedVersions []string        `json:"supportedVersions"`
		Capabilities      json.RawMessage `json:"capabilities"`
		Instructions      string          `json:"instructions,omitempty"`
		ResultType        string          `json:"resultType"`
		TTLMs             int64           `json:"ttlMs"`
		CacheScope        string          `json:"cacheScope"`
		Meta              map[string]any  `json:"_meta"`
	}{
		SupportedVersions: mcp.AllVersions,
		Capabilities:      init.Capabilities,
		Instructions:      init.Instructions,
		ResultType:        "complete",
		TTLMs:             ttlMs,
		CacheScope:        scope,
		Meta: map[string]any{mcp.MetaServerInfo: map[string]string{
			"name": r.opts.ServerName, "version": r.opts.ServerVersion}},
	})
}

// headerBinding is one x-mcp-header annotation of a tool's input schema: the
// top-level argument prop is mirrored in header Mcp-Param-<header>
// [SH26 §Custom Headers from Tool Parameters; T26 §x-mcp-header].
type headerBinding struct {
	prop   string
	header string // lower-cased, as Client.ParamHeaders is keyed
}

// headerBindings reads a tool's x-mcp-header bindings; nil when it has none.
func headerBindings(tool json.RawMessage) []headerBinding {
	if !bytes.Contains(tool, []byte(`"x-mcp-header"`)) {
		return nil
	}
	var t struct {
		InputSchema struct {
			Properties map[string]struct {
				Header string `json:"x-mcp-header"`
			} `json:"properties"`
		} `json:"inputSchema"`
	}
	if json.Unmarshal(tool, &t) != nil {
		return nil
	}
	var out []headerBinding
	for prop, p := range t.InputSchema.Properties {
		if p.Header != "" {
			out = append(out, headerBinding{prop: prop, header: strings.ToLower(p.Header)})
		}
	}
	return out
}

func headerMismatch(msg string) *jsonrpc.Error {
	return jsonrpc.NewError(mcp.CodeHeaderMismatch, "Header mismatch: "+msg)
}

// checkParamHeaders applies [SH26 §Server Behavior for Custom Headers] to a
// tools/call: for each argument the tool binds to a header, a present,
// non-null value requires the header with the same value (after
// [SH26 §Value Encoding] decoding), and a header without the value is
// rejected. Headers the tool does not bind are ignored.
func (r *Relay) checkParamHeaders(ctx context.Context, c *Client, params json.RawMessage) *jsonrpc.Error {
	cat, rpcErr := r.catalogFor(ctx, c)
	if rpcErr != nil || len(cat.headers) == 0 {
		return nil // dispatch reports the catalog's error
	}
	var p struct {
		Name      string                     `json:"name"`
		Arguments map[string]json.RawMessage `json:"arguments"`
	}
	if json.Unmarshal(params, &p) != nil {
		return nil // dispatch reports bad params
	}
	for _, b := range cat.headers[p.Name] {
		hv, hasHeader := c.ParamHeaders[b.header]
		body, hasBody := p.Arguments[b.prop]
		hasBody = hasBody && string(body) != "null"
		switch {
		case !hasBody && hasHeader:
			return headerMismatch("Mcp-Param-" + b.header + " sent without arguments." + b.prop)
		case !hasBody:
			continue
		case !hasHeader:
			return headerMismatch("Mcp-Param-" + b.header + " is required with arguments." + b.prop)
		}
		v, ok := mcp.DecodeHeaderValue(hv)
		if !ok {
			return headerMismatch("Mcp-Param-" + b.header + " is not valid base64")
		}
		if !paramMatches(body, v) {
			return headerMismatch("Mcp-Param-" + b.header + " does not match arguments." + b.prop)
		}
	}
	return nil
}

// paramMatches compares a header value with the argument it mirrors:
// strings exactly, numbers numerically, booleans as true/false.
func paramMatches(body json.RawMessage, v string) bool {
	switch {
	case len(body) > 0 && body[0] == '"':
		var s string
		return json.Unmarshal(body, &s) == nil && s == v
	case string(body) == "true" || string(body) == "false":
		return string(body) == v
	}
	a, err1 := strconv.ParseFloat(string(body), 64)
	b, err2 := strconv.ParseFloat(v, 64)
	return err1 == nil && err2 == nil && a == b
}
