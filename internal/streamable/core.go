package streamable

import "github.com/mcpgate/mcpgate/internal/mcpsession"

// Core is the MCP core behind the transport (package relay implements it).
// It is the session core's, shared with the legacy transport.
type Core = mcpsession.Core
