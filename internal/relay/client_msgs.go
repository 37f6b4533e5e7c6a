package relay

import (
	"context"
	"encoding/json"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// HandleNotification takes a notification from a client.
func (r *Relay) HandleNotification(ctx context.Context, c *Client, msg *jsonrpc.Message) {
	switch msg.Method {
	case mcp.NotificationCancelled:
		r.clientCancelled(c, msg.Params)
	case mcp.NotificationRootsListChanged:
		// Roots are the client's; every upstream that may ask for them
		// hears that they changed.
		for _, u := range r.upstreams {
			if u.Conn == nil {
				continue // a per-user connection asks again when it needs roots
			}
			if info := u.Conn.Info(); info != nil && info.Era == upstream.EraModern {
				continue // 2026-07-28 removed roots/list_changed: roots are asked per request
			}
			if err := u.Conn.Notify(ctx, msg.Method, msg.Params); err != nil {
				r.log.Debug("forwarding roots list_changed", "upstream", u.Name, "err", err)
			}
		}
	case mcp.NotificationProgress:
		r.clientProgress(ctx, c, msg)
	}
	// notifications/initialized and unknown notifications need no action.
}

// clientCancelled cancels a forwarded request ([C]); the upstream hears
// notifications/cancelled with its own id from the upstream connection.
func (r *Relay) clientCancelled(c *Client, params json.RawMessage) {
	var p struct {
		RequestID json.RawMessage `json:"requestId"`
	}
	if json.Unmarshal(params, &p) != nil || len(p.RequestID) == 0 {
		return
	}
	r.mu.Lock()
	cl := r.calls[callKey{c.SessionID, string(p.RequestID)}]
	r.mu.Unlock()
	if cl != nil {
		cl.clientCancelled.Store(true)
		cl.cancel(context.Canceled)
	}
}

// clientProgress relays progress the client reports on a server→client
// request back to the upstream that made it.
func (r *Relay) clientProgress(ctx context.Context, c *Client, msg *jsonrpc.Message) {
	var p struct {
		ProgressToken json.RawMessage `json:"progressToken"`
	}
	if json.Unmarshal(msg.Params, &p) != nil {
		return
	}
	r.mu.Lock()
	var target *serverRequest
	for _, sr := range r.serverReqs {
		if sr.sessionID == c.SessionID && len(sr.progressToken) > 0 && string(sr.progressToken) == string(p.ProgressToken) {
			target = sr
			break
		}
	}
	r.mu.Unlock()
	if target == nil {
		return
	}
	_ = target.conn.Notify(ctx, msg.Method, msg.Params)
}

// HandleResponse takes a client's answer to a server→client request and
// returns it to the upstream that asked, under the upstream's own id.
func (r *Relay) HandleResponse(ctx context.Context, c *Client, msg *jsonrpc.Message) {
	r.mu.Lock()
	sr := r.serverReqs[string(msg.ID)]
	if sr != nil && sr.sessionID == c.SessionID {
		delete(r.serverReqs, string(msg.ID))
	} else {
		sr = nil
	}
	r.mu.Unlock()
	if sr == nil {
		r.log.Debug("response to unknown server request", "session", c.SessionID)
		return
	}
	sr.stop()
	r.answerUpstream(sr, msg, nil)
}

// logLevels orders the syslog levels of MCP logging, most verbose first.
var logLevelOrder = map[string]int{
	"debug": 0, "info": 1, "notice": 2, "warning": 3, "error": 4, "critical": 5, "alert": 6, "emergency": 7,
}

// setLevel records the session's level, used to filter what it receives,
// and forwards the request to every upstream that logs.
func (r *Relay) setLevel(ctx context.Context, c *Client, msg *jsonrpc.Message) (json.RawMessage, *jsonrpc.Error) {
	var p struct {
		Level string `json:"level"`
	}
	if json.Unmarshal(msg.Params, &p) != nil {
		return nil, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Invalid params: level required")
	}
	lvl, ok := logLevelOrder[p.Level]
	if !ok {
		return nil, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Invalid params: unknown level")
	}
	r.mu.Lock()
	r.logLevels[c.SessionID] = lvl
	r.mu.Unlock()
	for _, u := range r.upstreams {
		if u.Conn == nil {
			continue // per-user upstreams: the gateway filters by the session's level
		}
		if info := u.Conn.Info(); info == nil || info.Capabilities.Logging == nil || info.Era == upstream.EraModern {
			continue // a modern upstream gets the level in each request's _meta (modern.go)
		}
		cctx, cancel := context.WithTimeout(ctx, u.CallTimeout)
		resp, err := u.Conn.Call(cctx, msg.Method, msg.Params)
		cancel()
		if err != nil || resp.Error != nil {
			r.log.Debug("forwarding logging/setLevel", "upstream", u.Name, "err", err)
		}
	}
	return emptyResult, nil
}

// subscribe records a session's subscription and returns how many sessions
// are now subscribed to uri.
func (r *Relay) subscribe(sessionID, uri string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	set := r.subs[uri]
	if set == nil {
		set = map[string]struct{}{}
		r.subs[uri] = set
	}
	set[sessionID] = struct{}{}
	return len(set)
}

// unsubscribe forgets a session's subscription and returns how many sessions
// remain subscribed to uri.
func (r *Relay) unsubscribe(sessionID, uri string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	set := r.subs[uri]
	delete(set, sessionID)
	if len(set) == 0 {
		delete(r.subs, uri)
	}
	return len(set)
}
