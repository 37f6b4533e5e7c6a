// Package session tracks MCP sessions of the session-era protocols
// (2024-11-05 … 2025-11-25): their IDs, owners, negotiated versions, limits
// and idle expiry. The Store interface lets sessions live in memory or in a
// shared store, so that any replica can serve any request.
//
// It owns session records only; live connections and in-flight calls belong
// to the transports and the relay.
package session
