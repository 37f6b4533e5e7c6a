// Package httpkit holds the HTTP plumbing every listener shares: the error
// type and its JSON body, and the edge middleware (request ID, panic
// recovery, access log, body size limit, Host/Origin guard against DNS
// rebinding, CORS from an allowlist).
//
// It owns how HTTP errors look on the wire: every error is JSON
// {"error": "<short code>", "message": "<public text>", "request_id": "…"}
// with the matching status, and internal detail goes only to the log. Paths
// that must answer differently (the MCP endpoint answers with JSON-RPC error
// objects) pass their own ErrorWriter.
//
// The edge chain, outermost first, is
//
//	Chain(Edge(…), BodyLimit(…), guard.Handler, …)
//
// where Edge gives the request its ID, logs it, recovers panics and sets
// Date, so that every log line carries the request ID and the access log
// sees the 500 a recovered panic gets.
package httpkit

import "net/http"

// Middleware wraps a handler.
type Middleware func(http.Handler) http.Handler

// Chain composes middleware so that the first one listed is the outermost:
// Chain(a, b)(h) serves a(b(h)).
func Chain(ms ...Middleware) Middleware {
	return func(h http.Handler) http.Handler {
		for i := len(ms) - 1; i >= 0; i-- {
			h = ms[i](h)
		}
		return h
	}
}
