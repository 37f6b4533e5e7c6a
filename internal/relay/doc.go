// Package relay is the MCP core of the gateway, with no HTTP: it answers the
// methods the gateway owns (initialize, ping, the aggregated lists), routes
// everything else by namespaced name to an upstream, and relays progress,
// cancellation, logging, list_changed and server→client requests back to the
// right client session.
//
// It owns routing, aggregation, namespacing and request-id mapping between
// clients and upstreams. It must not import net/http or know transports'
// wire formats; transports hand it decoded messages and Streams.
package relay
