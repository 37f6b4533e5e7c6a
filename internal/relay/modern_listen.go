package relay

import (
	"context"
	"errors"
	"sync"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// A modern upstream announces list changes only on a subscriptions/listen
// stream [SUB] (docs/specification/draft/basic/patterns/subscriptions.mdx;
// docs/protocol-eras.md §4.4 step 4). The gateway holds one listen per
// modern upstream for the kinds it declares listChanged for, opened at each
// UpstreamReady; its notifications arrive through UpstreamMessage like a
// session-era upstream's and refresh the catalog the same way.

// upstreamListens are the gateway's own listens: for list changes by
// upstream name (a per-user connection's: name and user, listChangesKey),
// for a resource by resourceListenKey.
type upstreamListens struct {
	mu   sync.Mutex // guards held
	held map[string]*heldListen
}

// heldListen is one listen's cancel; its goroutine removes its own entry
// when it ends.
type heldListen struct{ cancel context.CancelFunc }

// listChangesKey keys the list listen of user's connection to upstream
// name ("" for a shared one).
func listChangesKey(name, user string) string {
	if user == "" {
		return name
	}
	return name + "\x01" + user
}

// listenUpstream opens the gateway's listen on a modern shared upstream
// that just became ready, replacing the one it may still hold.
func (r *Relay) listenUpstream(name string, info *upstream.Info) {
	if u, ok := r.conn(name); ok && u.Conn != nil {
		r.listenChanges(listChangesKey(name, ""), name, u.Conn, info)
		r.relistenResources(name, u.Conn, info)
	}
}

// relistenResources re-opens, on a modern upstream that (re)started, the
// resource listens its subscribed URIs had (modern_subs.go): they ended
// with the previous process.
func (r *Relay) relistenResources(name string, conn upstream.Conn, info *upstream.Info) {
	if info == nil || info.Era != upstream.EraModern {
		return
	}
	r.mu.Lock()
	keys := make([]string, 0, len(r.subs))
	for key := range r.subs {
		keys = append(keys, key)
	}
	r.mu.Unlock()
	cat := r.catalog.Load()
	for _, uri := range keys { // shared upstreams key subscriptions by URI
		if owner, ok := r.resourceOwner(cat, uri); ok && owner == name {
			r.holdListen(resourceListenKey(name, uri), name, conn, listenFilter{ResourceSubscriptions: []string{uri}})
		}
	}
}

// listenChanges opens a listen for the list kinds a modern upstream
// declares listChanged for, on conn, held under key.
func (r *Relay) listenChanges(key, name string, conn upstream.Conn, info *upstream.Info) {
	if info == nil || info.Era != upstream.EraModern {
		return
	}
	filter := listenFilter{
		ToolsListChanged:     info.Capabilities.Tools != nil && info.Capabilities.Tools.ListChanged,
		PromptsListChanged:   info.Capabilities.Prompts != nil && info.Capabilities.Prompts.ListChanged,
		ResourcesListChanged: info.Capabilities.Resources != nil && info.Capabilities.Resources.ListChanged,
	}
	if !filter.ToolsListChanged && !filter.PromptsListChanged && !filter.ResourcesListChanged {
		return
	}
	r.holdListen(key, name, conn, filter)
}

// holdListen opens an upstream listen with filter on conn, held under key
// (replacing one held there) until stopListen(key), the upstream's death,
// or the relay's Close.
func (r *Relay) holdListen(key, name string, conn upstream.Conn, filter listenFilter) {
	ctx, cancel := context.WithCancel(r.ctx)
	h := &heldListen{cancel: cancel}
	l := &r.upListens
	l.mu.Lock()
	if prev := l.held[key]; prev != nil {
		prev.cancel()
	}
	if l.held == nil {
		l.held = map[string]*heldListen{}
	}
	l.held[key] = h
	l.mu.Unlock()
	params := jsonrpc.MustRaw(map[string]any{"notifications": filter})
	r.wg.Go(func() {
		defer func() {
			cancel()
			l.mu.Lock()
			if l.held[key] == h {
				delete(l.held, key)
			}
			l.mu.Unlock()
		}()
		// The call returns when the upstream ends the listen, dies, or the
		// relay closes (then notifications/cancelled ends it upstream).
		resp, err := conn.Call(ctx, mcp.MethodSubscriptionsListen, params)
		switch {
		case ctx.Err() != nil, errors.Is(err, upstream.ErrUnavailable):
		case err != nil:
			r.log.Warn("upstream listen failed", "upstream", name, "err", err)
		case resp.Error != nil:
			r.log.Warn("upstream refused subscriptions/listen", "upstream", name, "code", resp.Error.Code)
		default:
			r.log.Debug("upstream ended its listen", "upstream", name)
		}
	})
}

// stopListen ends the listen held under key, if any.
func (r *Relay) stopListen(key string) {
	l := &r.upListens
	l.mu.Lock()
	h := l.held[key]
	delete(l.held, key)
	l.mu.Unlock()
	if h != nil {
		h.cancel()
	}
}
