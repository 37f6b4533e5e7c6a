package relay

import (
	"encoding/json"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// Resource subscriptions of session clients on a modern upstream
// (docs/protocol-eras.md §4.2 "Resource updates", §4.4 step 4): 2026-07-28
// removed resources/subscribe ([CL26] Major 4), so the first session that
// subscribes to a URI makes the gateway hold one upstream
// subscriptions/listen with that URI in resourceSubscriptions, and the last
// one leaving (unsubscribe or session end) cancels it. The upstream's
// notifications/resources/updated take today's path to the subscribed
// sessions (Relay.subs, refcounted as for session-era upstreams).

// resourceListenKey keys a resource listen in upstreamListens, apart from
// the list listens (keyed by upstream name alone).
func resourceListenKey(name, key string) string { return name + "\x00" + key }

// modernSubscribe answers resources/subscribe and resources/unsubscribe of
// a session for a URI a modern upstream owns. key is the subscription key
// (subKey). The listen is opened in the background: its acknowledgement is
// a notification the relay does not wait for.
func (r *Relay) modernSubscribe(method, name string, conn upstream.Conn, c *Client, key, uri string) (json.RawMessage, *jsonrpc.Error) {
	switch method {
	case mcp.MethodResourcesSubscribe:
		if r.subscribe(c.SessionID, key) == 1 {
			r.holdListen(resourceListenKey(name, key), name, conn, listenFilter{ResourceSubscriptions: []string{uri}})
		}
	case mcp.MethodResourcesUnsubscribe:
		if r.unsubscribe(c.SessionID, key) == 0 {
			r.stopListen(resourceListenKey(name, key))
		}
	}
	return emptyResult, nil
}
