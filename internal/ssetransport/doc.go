// Package ssetransport serves the client-facing HTTP+SSE transport of
// protocol revision 2024-11-05 ([T1105 §HTTP with SSE]), which many clients
// still speak only (Perplexity Desktop, older SDKs, IDE plugins): a client
// opens GET /sse, the first event ("endpoint") names the URI to POST its
// messages to (/messages?sessionId=…), every POST is answered 202
// Accepted, and every server→client message — responses included — comes
// back on the SSE stream as a "message" event.
//
// It owns the wire format only. Sessions, their principal binding (403
// for another principal, 404 for an unknown or expired session), the
// relay client, calls, heartbeats, expiry, shutdown and stats are the
// session core's (package mcpsession), the same code that serves
// Streamable HTTP; MCP itself is the relay's. The Host/Origin guard,
// authentication and limits are the same middleware as on /mcp, mounted
// by the composition root.
//
// # Design
//
//	GET /sse ─────────▶ Hub.Open: a session bound to the GET's principal, no version yet,
//	                    and its one event-log stream "0"
//	                    SSE: "event: endpoint" with /messages?sessionId=ID, then Hub.Pump
//	                    writes stream "0" as "event: message" (no IDs), ": ping" when idle
//	                    the stream ends → the session ends (Hub.Delete): 2024-11-05 has no
//	                    resumption, so nothing could ever read its messages again
//	POST /messages ───▶ Hub.Resolve (400 without sessionId, 404, 403)
//	  initialize ─────▶ Hub.InitializeOpen: negotiated version recorded, client attached;
//	                    the response is appended to stream "0", then 202
//	  request ────────▶ the POST's goroutine runs Hub.Call and appends the response
//	                    to stream "0" (related messages go there too); the 202, held
//	                    meanwhile (httpfront.Hold), follows — or leaves first, when
//	                    the call runs past 2 ms or sends the client a message; where
//	                    net/http serves the POST: 202 at once, a hub worker runs it
//	  notification,
//	  response ───────▶ to the core, then 202
//
// The version negotiated at initialize governs the session: a 2024-11-05
// client gets 2024-11-05 (and nothing the relay would add for newer
// revisions), and a client that asks for a newer revision over this
// transport gets that revision.
//
// # Decisions where the spec leaves a choice
//
//   - GET /sse needs Accept to list text/event-stream (406), as the
//     Streamable GET does. POST /messages never answers with SSE: a
//     present Accept must allow application/json (406); an absent one
//     allows anything (RFC 9110 §12.5.1).
//   - A present MCP-Protocol-Version must be a revision the gateway
//     speaks (400); the SDK sends it on POSTs after initialize.
//   - Before initialize, a session takes only a lone initialize request;
//     anything else gets 400 (the Streamable endpoint likewise refuses
//     requests without a session).
//   - Batches only in sessions that negotiated 2025-03-26, as on /mcp.
//   - The 202 may come after the response event: the spec orders neither,
//     clients wait for the response on the stream (the TypeScript, Python
//     and Go SDKs resolve a request by its response, whenever the POST's
//     answer comes), and holding it saves a quick call a hand-off to
//     another goroutine on both sides. It is held at most 2 ms, and never
//     past the call's first message to the client, because a client may
//     send its messages one at a time (the Python SDK does) — its answer
//     to a sampling request, or a cancellation, waits for that 202.
//   - Errors are JSON objects {"error", "message", "request_id"} with the
//     HTTP status (400, 403, 404, 406, 413, 415, 429, 503).
//   - A response that is larger than the stream's event bound is replaced
//     by a JSON-RPC error for that request. A client that leaves its stream
//     full of unread events loses its session (the stream is bounded;
//     nothing is dropped silently).
package ssetransport
