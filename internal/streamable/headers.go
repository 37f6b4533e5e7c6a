package streamable

import (
	"net/http"

	"github.com/mcpgate/mcpgate/internal/mcp"
)

// Canonical header keys, for direct map access without canonicalizing. The
// Accept, Content-Type and MCP-Protocol-Version rules are the session
// core's (mcpsession.Accepts, JSONContentType, VersionHeader), so that both
// transports apply the same ones.
const (
	keySessionID   = mcp.HeaderSessionID   // "Mcp-Session-Id"
	keyLastEventID = mcp.HeaderLastEventID // "Last-Event-Id"
)

// sessionHeader returns the Mcp-Session-Id header. An empty value counts as
// absent; a repeated header is an error.
func sessionHeader(r *http.Request) (id string, present, ok bool) {
	ids := r.Header[keySessionID]
	switch {
	case len(ids) == 0 || len(ids) == 1 && ids[0] == "":
		return "", false, true
	case len(ids) > 1:
		return "", true, false
	}
	return ids[0], true, true
}
