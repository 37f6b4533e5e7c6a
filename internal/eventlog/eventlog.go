// Package eventlog keeps the server→client messages of each SSE stream as a
// numbered, bounded log, so that a connection can tail a stream and a client
// can resume one with Last-Event-ID (MCP Streamable HTTP §Resumability).
//
// It owns event numbering, event IDs and retention. It knows nothing of HTTP
// or JSON-RPC: an event is opaque bytes.
package eventlog
