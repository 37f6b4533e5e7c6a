// Package mcpsession is the session core that both client-facing transports
// share: Streamable HTTP (package streamable) and the 2024-11-05 HTTP+SSE
// transport (package ssetransport). It creates sessions from initialize,
// binds them to their principal and refuses other principals (403) and
// unknown or expired IDs (404), builds the relay.Client of each session and
// attaches it to the MCP core, keeps the live state of the sessions this
// replica serves (their context, calls in flight, the connection writing
// each stream), tails event-log streams onto SSE connections with
// heartbeats, ends sessions on DELETE, disconnection, idle expiry and
// shutdown, and counts what it sends. On top of that it offers the
// connection-management views of the admin API: stats and broadcast.
//
// The transports own their wire formats only. Nothing about sessions,
// principals or MCP handling exists twice: the story of seed
// 002_e969460ea9bddaf5.txt, where a second copy of the session code drifted
// and lost its security checks, is what this package prevents.
//
// # Design
//
//	streamable ──┐                       ┌─▶ session.Manager (records, owner, version, idle expiry)
//	(POST/GET/   │   Hub                 │
//	 DELETE /mcp)├──▶ Create / Open ─────┼─▶ Core (relay): Initialize, Attach/Detach,
//	             │    Resolve (404/403)  │     HandleRequest, HandleNotification, HandleResponse
//	ssetransport─┘    Lookup → *Live     └─▶ eventlog.Log: one stream per SSE response;
//	(GET /sse,        Call, Pump                stream "0" is the session's standalone stream
//	 POST /messages)  End, Shutdown
//	                  Stats, Broadcast
//
// A Live session is what this replica knows of a session beyond its record:
// the relay.Client attached to the core, a context that ends with the
// session, the count of calls in flight, the one connection allowed to
// write each stream, and counters of what was sent. It can be rebuilt from
// the record on any replica (Lookup), so that with shared stores any
// replica serves any request.
//
// Every server→client message goes through the event log. Streamable HTTP
// gives each POST that needs one its own stream and the standalone GET
// stream "0"; the legacy transport has exactly one stream per session,
// "0", which carries everything, responses included. Pump is the one loop
// that writes a stream to a connection, for both: events as they come,
// ": ping" comments when the stream is silent for a heartbeat interval
// (which also keep the session from expiring while a client listens),
// and every write bounded by a timeout, so that a dead or stalled client is
// noticed and its resources freed.
//
// A stream that has written what it holds and would wait is parked when it
// can be (an HTTP/1.x GET, PumpOptions.Park): Pump takes its connection
// over from net/http and the hub's parker serves it from then on, so that
// an idle stream keeps no handler goroutine, stack or net/http buffers
// (see Parking in park.go).
//
// Sessions of the 2024-11-05 transport exist before their initialize: the
// client connects to GET /sse and is told the session's ID in the endpoint
// event, then POSTs initialize. Open creates such a session, bound to the
// principal of the GET, with no protocol version; InitializeOpen completes
// it with what the core negotiated (any revision the client asks for that
// the gateway speaks) and only then attaches it to the core.
package mcpsession
