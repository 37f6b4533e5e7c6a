package streamable

import (
	"context"
	"encoding/json"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/relay"
)

// Core is the MCP core behind the transport; package relay implements it.
// The transport calls it with decoded messages and never interprets MCP
// beyond the initialize method.
type Core interface {
	// Initialize negotiates a new session from the initialize request's
	// params. An error is sent to the client as the JSON-RPC error response
	// to initialize, and no session is created.
	Initialize(ctx context.Context, p principal.Principal, params json.RawMessage) (*relay.InitializeResult, *jsonrpc.Error)
	// Attach registers a client session so the relay can reach it; Detach
	// forgets it. A session is attached on the replica that serves it (after
	// Initialize, or on the first request a replica serves for a session
	// created elsewhere) and detached when it ends or at Shutdown.
	Attach(c *relay.Client)
	Detach(sessionID string)
	// HandleRequest answers one client request. Messages related to it
	// (progress, logging, server→client requests) go to out before it
	// returns the response; out refuses responses, and fails when the event
	// log refuses the message (bounds). ctx is not cancelled when the HTTP
	// client disconnects (MCP 2025: disconnection is not cancellation) but
	// is when the session ends; it carries the request's values (principal,
	// request ID). HandleRequest runs on the HTTP handler's goroutine (the
	// requests of a batch run concurrently), so the POST's response ends
	// when it returns; it must return promptly once ctx is done. A panic or
	// a nil result is answered with an internal error.
	HandleRequest(ctx context.Context, c *relay.Client, msg *jsonrpc.Message, out relay.Stream) *jsonrpc.Message
	// HandleNotification and HandleResponse take the client's notifications
	// and its responses to server→client requests. They are called before
	// the POST that carried them is answered with 202, so they must not
	// block for long.
	HandleNotification(ctx context.Context, c *relay.Client, msg *jsonrpc.Message)
	HandleResponse(ctx context.Context, c *relay.Client, msg *jsonrpc.Message)
}
