package relay

import (
	"context"
	"encoding/json"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// Mcp-Param-* headers for modern HTTP upstreams (docs/protocol-eras.md §2
// rule 12, §10 "Increment 6"). [SH26] is
// docs/specification/2026-07-28/basic/transports/streamable-http.mdx. The
// headers travel to the upstream connection in the call's context
// (upstream.WithParamHeaders), so the connection never decodes a body; a
// connection without a header layer (stdio) ignores them.

// withParamHeaders returns ctx carrying the Mcp-Param-* headers of a
// tools/call to a modern upstream. A 2026 client's own headers are
// forwarded as they came: the bound ones were checked against the body
// (checkParamHeaders), and "intermediate servers that do not recognize an
// Mcp-Param-{Name} header MUST forward it" [SH26 §Server Behavior for
// Custom Headers]. For a session client the gateway is the HTTP client, so
// it mirrors the arguments the tool binds with x-mcp-header
// [SH26 §Client Behavior]; the arguments are decoded only for a tool that
// has such bindings.
func (r *Relay) withParamHeaders(ctx context.Context, cl *call, method string, params json.RawMessage) context.Context {
	if method != mcp.MethodToolsCall {
		return ctx
	}
	c := cl.client
	if c.Stateless {
		if len(c.ParamHeaders) == 0 {
			return ctx
		}
		hs := make([]upstream.ParamHeader, 0, len(c.ParamHeaders))
		for name, v := range c.ParamHeaders {
			hs = append(hs, upstream.ParamHeader{Name: name, Value: v})
		}
		return upstream.WithParamHeaders(ctx, hs)
	}
	cat, rpcErr := r.catalogFor(ctx, c)
	if rpcErr != nil || len(cat.headers) == 0 {
		return ctx
	}
	raw, ok := jsonrpc.Lookup(params, "name")
	var name string
	if !ok || json.Unmarshal(raw, &name) != nil {
		return ctx
	}
	bindings := cat.headers[r.exposedName(cl.upstream, name)]
	if len(bindings) == 0 {
		return ctx
	}
	var p struct {
		Arguments map[string]json.RawMessage `json:"arguments"`
	}
	if json.Unmarshal(params, &p) != nil {
		return ctx
	}
	var hs []upstream.ParamHeader
	for _, b := range bindings {
		if v, ok := headerText(p.Arguments[b.prop]); ok {
			hs = append(hs, upstream.ParamHeader{Name: b.header, Value: mcp.EncodeHeaderValue(v)})
		}
	}
	return upstream.WithParamHeaders(ctx, hs)
}

// headerText converts an argument to its header text [SH26 §Value
// Encoding, Type conversion]: a string as it is, an integer in decimal,
// a boolean as true/false. Absent and null values have no header
// [SH26 §Server Behavior for Custom Headers, table].
func headerText(v json.RawMessage) (string, bool) {
	switch {
	case len(v) == 0 || string(v) == "null":
		return "", false
	case v[0] == '"':
		var s string
		if json.Unmarshal(v, &s) != nil {
			return "", false
		}
		return s, true
	case v[0] == '{' || v[0] == '[':
		return "", false // not a primitive: the binding is invalid [SH26 §Schema Extension]
	}
	return string(v), true
}
