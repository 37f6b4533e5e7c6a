package config

import "strings"

// The era and transport fallback of remote upstreams (docs/protocol-eras.md
// §4.1, §10 "Increment 6"). [SH26] is
// docs/specification/2026-07-28/basic/transports/streamable-http.mdx, [T]
// docs/specification/2025-11-25/basic/transports.mdx.

// checkRemoteEra reports the problems of a remote upstream's protocol and
// fallback_sse: the 2024-11-05 HTTP+SSE transport has no stateless era,
// and only a Streamable HTTP upstream can fall back to it
// [T §Backwards Compatibility].
func checkRemoteEra(ps *Problems, at string, u *Upstream) {
	if u.Type == TypeSSE && u.Protocol == ProtocolModern {
		ps.add(at+".protocol", "%q needs type %q: the HTTP+SSE transport speaks only the session era", ProtocolModern, TypeHTTP)
	}
	if u.FallbackSSE && u.Type != TypeHTTP {
		ps.add(at+".fallback_sse", "only for type %q", TypeHTTP)
	}
	if u.FallbackSSE && u.Protocol == ProtocolModern {
		ps.add(at+".fallback_sse", "cannot be combined with protocol %q: an HTTP+SSE server is never modern", ProtocolModern)
	}
}

// isParamHeader reports whether k is an Mcp-Param-* header, which the
// gateway sets per tools/call from the tool's x-mcp-header bindings
// [SH26 §Custom Headers from Tool Parameters].
func isParamHeader(k string) bool {
	const prefix = "mcp-param-"
	return len(k) >= len(prefix) && strings.EqualFold(k[:len(prefix)], prefix)
}
