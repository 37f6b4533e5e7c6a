// Package streamable serves the client-facing Streamable HTTP transport of
// the session-era protocol revisions (2025-03-26, 2025-06-18, 2025-11-25):
// POST, GET and DELETE on one MCP endpoint ([T §Streamable HTTP]).
//
// It owns the wire format only: headers, status codes, JSON versus SSE,
// event IDs and resumption. Sessions — their creation, principal binding,
// live state, heartbeats, expiry and shutdown — are the session core's
// (package mcpsession), shared with the 2024-11-05 transport (package
// ssetransport); their records live in package session, the messages of
// every SSE stream in package eventlog, and MCP itself in the Core
// (package relay implements it).
//
// # Design
//
// Every server→client message that is not a lone immediate response goes
// through the event log, never straight to a connection. A connection tails
// one stream of the log; the Core only appends. So a call survives its
// client's disconnection (disconnection is not cancellation, [T §Sending
// Messages] 6), its events wait in the log for a GET with Last-Event-ID,
// and, with a shared log, any replica can serve the resumption.
//
//	POST request ──▶ handler goroutine runs Core.HandleRequest(out)
//	                   ├─ returns before out is used and before a heartbeat interval:
//	                   │    application/json, no stream, no goroutine (the fast path)
//	                   └─ out.Send, or a heartbeat interval passes: Create stream S in the
//	                        event log and start a tail goroutine writing S as text/event-stream
//	                        (priming event in 2025-11-25, "id: S.n" events, ": ping" heartbeats);
//	                        the response is appended with Complete(S) and the tail ends the
//	                        SSE stream after it
//	GET ──────────────▶ tail the session's standalone stream "0" (relay.Client.Standalone appends)
//	GET + Last-Event-ID "S.n" ──▶ tail stream S from n+1 (replay, then live), never another stream
//	DELETE ───────────▶ end the session: Detach, cancel calls and tails, delete its streams
//
// The handler goroutine runs the call to its end even if the client leaves,
// and the POST's HTTP response ends when the call does.
//
// Event IDs are "<stream>.<seq>" (eventlog.FormatEventID): unique across
// the session's streams, and they name their stream ([T §Resumability] 1).
// The priming event's ID is "<stream>.<position>", so reconnecting with it
// replays everything after that position.
//
// At most one connection writes a stream at a time, so no message is sent
// on two connections ([T §Multiple Connections] 2). A second GET without
// Last-Event-ID while one is open gets 409 Conflict; a GET with
// Last-Event-ID takes the stream over from a connection still writing it
// (the client would not resume a connection it still reads); a POST
// response taken over this way stays open, silent, until its call returns.
//
// With shared stores (several replicas), a session created on one replica is
// attached to the core of any replica that serves it, rebuilt from its
// record; streams are read and resumed through the shared log. The
// one-connection-per-stream rule is kept per replica only.
//
// # Decisions where the spec leaves a choice
//
//   - Accept without both application/json and text/event-stream (POST), or
//     without text/event-stream (GET): 406, as the TypeScript SDK does.
//     "*/*", "application/*" and "text/*" count; a range with q=0 does not.
//   - MCP-Protocol-Version present but unsupported (or repeated): 400
//     ([T §Protocol Version Header]). Present, supported, but different from
//     the session's negotiated version: accepted, because the official
//     conformance suite sends 2025-03-26 in 2025-11-25 sessions; the
//     negotiated version governs (batching, priming). Absent: the
//     negotiated version applies.
//   - Batches: only in sessions that negotiated 2025-03-26 ([B0326
//     §Batching]); otherwise 400. initialize is never accepted in a batch.
//   - Unknown, malformed, foreign or no longer retained Last-Event-ID: 400,
//     never 404, because 404 tells the client its session is gone
//     ([T §Session Management] 4).
//   - More than mcpsession.Options.MaxConcurrentCalls POSTs with requests
//     in flight in one session: 429. If the event log refuses a call's stream
//     (eventlog.ErrLimit), its related messages are refused (Send fails)
//     and its response still goes out as JSON. Gateway session limit
//     reached, or shutting down: 503 with Retry-After.
//   - An empty Mcp-Session-Id header counts as absent.
//   - Transport errors on this endpoint are JSON-RPC error objects with id
//     null (code -32700 for unparsable JSON, -32600 for other 4xx, -32603
//     for 5xx) and the request ID in error.data.
package streamable
