package relay

import (
	"encoding/json"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/principal"
)

// Stream is where the relay sends server→client messages: the stream of one
// client request (its POST response stream) or a session's standalone
// stream. Send must not block for long; transports buffer through the event
// log. Send returns an error when the stream can take no more messages.
type Stream interface {
	Send(msg *jsonrpc.Message) error
}

// Client is a client session as the relay sees it. Transports create one
// after a successful Initialize and Attach it; it is plain data that can be
// rebuilt from the session store on any replica.
type Client struct {
	// SessionID is the transport session's ID.
	SessionID string
	// Principal owns the session.
	Principal principal.Principal
	// ProtocolVersion is the negotiated revision.
	ProtocolVersion string
	// Capabilities are what the client declared at initialize.
	Capabilities ClientCapabilities
	// ClientInfo is the client's clientInfo, raw.
	ClientInfo json.RawMessage
	// Stateless marks a 2026-07-28 client (docs/protocol-eras.md): no
	// session, one request. HandleRequest then serves only the stateless
	// methods and shapes results and errors for that era. SessionID must
	// still be unique per request (it keys calls in flight).
	Stateless bool
	// ParamHeaders are a stateless request's Mcp-Param-* headers, raw, by
	// the lower-cased part after the prefix; nil when it sent none.
	ParamHeaders map[string]string
	// Standalone carries messages that relate to no client request:
	// list_changed, resource updates, and server→client requests or logging
	// that cannot be tied to a request. Nil means the session has nowhere to
	// put them (they are dropped, and requests answered with an error).
	Standalone Stream
}

// ClientCapabilities is the subset of the client's declared capabilities the
// relay routes on.
type ClientCapabilities struct {
	Sampling    bool
	Elicitation bool
	Roots       bool
	// Raw is the capabilities object as sent.
	Raw json.RawMessage
}

// InitializeResult is what Initialize decided for a new session.
type InitializeResult struct {
	// Result is the InitializeResult to send to the client.
	Result json.RawMessage
	// ProtocolVersion is the negotiated revision.
	ProtocolVersion string
	// Capabilities and ClientInfo are parsed from the client's params.
	Capabilities ClientCapabilities
	ClientInfo   json.RawMessage
}
