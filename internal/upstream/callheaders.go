package upstream

import "context"

// Request headers for a call to an HTTP upstream (docs/protocol-eras.md §2
// rule 12). The relay knows which Mcp-Param-* headers a tools/call needs
// (a 2026 client's own, or the values of the arguments the tool binds with
// x-mcp-header for a session client); it hands them to the connection in
// the call's context, so that the connection never decodes the body on the
// hot path. Connections without a header layer (stdio) ignore them.
// [SH26] is docs/specification/2026-07-28/basic/transports/streamable-http.mdx.

// ParamHeader is one Mcp-Param-{Name} header of a request
// [SH26 §Custom Headers from Tool Parameters].
type ParamHeader struct {
	// Name is the part after "Mcp-Param-".
	Name string
	// Value is the header value, already encoded as [SH26 §Value Encoding]
	// asks (plain ASCII or =?base64?…?=).
	Value string
}

type paramHeadersKey struct{}

// WithParamHeaders returns ctx carrying hs for the upstream request made
// with it. An empty hs returns ctx unchanged.
func WithParamHeaders(ctx context.Context, hs []ParamHeader) context.Context {
	if len(hs) == 0 {
		return ctx
	}
	return context.WithValue(ctx, paramHeadersKey{}, hs)
}

// ParamHeadersFrom returns the headers WithParamHeaders put in ctx, or nil.
func ParamHeadersFrom(ctx context.Context) []ParamHeader {
	hs, _ := ctx.Value(paramHeadersKey{}).([]ParamHeader)
	return hs
}
