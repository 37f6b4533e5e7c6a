// Package httpfront serves the gateway's MCP listener: a lean HTTP/1.1
// connection loop for the hot requests (a plain POST of a JSON-RPC
// message), and net/http for every other connection.
//
// Why: net/http's server costs about 11 µs of CPU per request on the
// reference two-core machine (a raw floor answering fixed bytes: 24–28 µs
// per request through net/http, 15–16 µs through this loop with the same
// parser, docs/performance.md "Eighth pass"); in front of a stdio upstream
// that is a fifth of the gateway's whole cost per call. Most of it is
// per-request machinery a plain POST does not need: a background read
// goroutine per request (to notice a client that goes away), the
// deadlines that stop it, the response's chunk writer and its buffers.
//
// What it owns: accepting connections, deciding per request which lane
// serves it, and on the fast lane the connection loop (keep-alive,
// timeouts, the header bound), the request body (bounded by its
// Content-Length) and the response's serialization.
//
// What stays net/http's: the request parser (http.ReadRequest, the
// parser net/http's server uses, on both lanes) and every request that is
// not plainly safe to serve lean. A request takes the fast lane only when
// its whole header is already buffered and is unremarkable: an HTTP/1.1
// request line the Options accept (the gateway: POST to /mcp or
// /messages, DELETE of /mcp), exactly one Host and at most one
// Content-Length (none: no body), header names that
// are tokens and values free of control characters, no Transfer-Encoding,
// Expect, Upgrade or Connection other than keep-alive, and no bare LF.
// Anything else — a GET stream, a chunked body, a header larger than the
// read buffer, an HTTP/1.0 client, malformed input — is handed, with the
// bytes already read, to an http.Server that serves the connection from
// then on. Rejecting bad input is therefore net/http's job, with its own
// status codes; the fast lane never sees it.
//
// Differences on the fast lane, by design: the request's context ends when
// the handler returns or the server closes, not when the client goes away
// (the MCP transports do not treat a disconnect as a cancellation, and a
// streaming response notices a gone client at its next write); a response
// is buffered whole (up to 64 KiB) and sent with its Content-Length in one
// write, or streamed chunked once the handler flushes or outgrows the
// buffer. Flush, Hijack, SetWriteDeadline and SetReadDeadline work as on
// net/http (http.ResponseController).
//
// One addition net/http has no counterpart for, on the fast lane only:
// Hold. A handler whose answer is fixed before its work is done (the
// legacy SSE transport's 202 to a POSTed message) holds the answer and
// does the work on its own goroutine; the answer leaves when the handler
// returns, or — if the work takes longer than Options.MaxHold (2 ms), or
// the handler calls Release — without it, while the connection goes on
// serving the client on a new goroutine.
//
// It must not know MCP: which requests are hot is the caller's decision
// (Options.Fast).
package httpfront
