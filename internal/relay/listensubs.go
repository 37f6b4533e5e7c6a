package relay

import (
	"context"
	"encoding/json"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// Resource updates on subscriptions/listen streams (docs/protocol-eras.md
// §4.4 step 4). A listen's resourceSubscriptions share the upstream
// subscriptions of session-era clients' resources/subscribe: Relay.subs
// counts both (a listen is keyed by its per-request SessionID), so an
// upstream is subscribed on the first holder of a URI, of either era, and
// unsubscribed after the last.
//
//	listen {resourceSubscriptions:[u]} ─┐                ┌─ resources/subscribe u   (first holder)
//	session resources/subscribe u ──────┼─ subs[key(u)] ─┤   (a 2026-07-28 upstream: one upstream listen)
//	                                    │                └─ resources/unsubscribe u (last one gone; or the
//	                                    │                   upstream listen cancelled)
//	upstream notifications/resources/updated u ─▶ sessions' standalone streams
//	                                            └▶ listens holding u, tagged with their subscriptionId

// maxListenURIs bounds the resource subscriptions one listen holds; more
// are left out of the acknowledgement (a permitted subset [SUB
// §Acknowledgment]).
const maxListenURIs = 64

// listenSub is one resource subscription of a listen stream.
type listenSub struct {
	uri, key string
	upstream string
	conn     upstream.Conn
	// release ends the listen's hold on a per-user connection; nil for a
	// shared one. A per-user process is kept while a listen subscribes
	// through it: its subscription lives in that process.
	release func()
	// modern marks a 2026-07-28 upstream: subscribed with an upstream
	// listen (modern_subs.go), not resources/subscribe.
	modern bool
}

func (s *listenSub) releaseConn() {
	if s.release != nil {
		s.release()
		s.release = nil
	}
}

// listenSubscribe subscribes listen l to each of uris it can be updated on
// and returns those, in order: the honoured part of the filter [SUB
// §Acknowledgment].
func (r *Relay) listenSubscribe(ctx context.Context, c *Client, l *listen, uris []string) []string {
	cat, _ := r.catalogFor(ctx, c) // a missing per-user upstream owns nothing here
	var out []string
	seen := make(map[string]bool, len(uris))
	for _, uri := range uris {
		if len(l.subs) == maxListenURIs {
			break
		}
		if uri == "" || seen[uri] {
			continue
		}
		seen[uri] = true
		if r.listenSubscribeOne(ctx, c, l, cat, uri) {
			out = append(out, uri)
		}
	}
	return out
}

// listenSubscribeOne subscribes l to uri; false when uri's owner cannot
// deliver updates (it does not declare resources.subscribe, or its
// subscribe call fails).
func (r *Relay) listenSubscribeOne(ctx context.Context, c *Client, l *listen, cat *catalog, uri string) bool {
	name, ok := r.resourceOwner(cat, uri)
	if !ok {
		return false
	}
	u, _ := r.conn(name)
	s := listenSub{uri: uri, key: r.subKey(name, c, uri), upstream: name, conn: u.Conn}
	if u.PerUser != nil {
		// Per-user upstreams: the principal's own process, so its updates
		// reach only this principal's listens (subKey holds the user).
		conn, release, err := u.PerUser.Acquire(ctx, c.Principal.Key())
		if err != nil {
			return false
		}
		s.conn, s.release = conn, release
	}
	info := s.conn.Info()
	if info == nil || info.Capabilities.Resources == nil || !info.Capabilities.Resources.Subscribe {
		s.releaseConn()
		return false
	}
	id := l.client.SessionID
	if s.modern = info.Era == upstream.EraModern; s.modern {
		// 2026-07-28 upstreams have no resources/subscribe ([CL26] Major
		// 4): the first holder opens one upstream listen for the URI, as
		// for sessions (modern_subs.go).
		if r.subscribe(id, s.key) == 1 {
			r.holdListen(resourceListenKey(name, s.key), name, s.conn, listenFilter{ResourceSubscriptions: []string{uri}})
		}
	} else if r.subscribe(id, s.key) == 1 {
		cctx, cancel := context.WithTimeout(ctx, u.CallTimeout)
		resp, err := s.conn.Call(cctx, mcp.MethodResourcesSubscribe, jsonrpc.MustRaw(map[string]string{"uri": uri}))
		cancel()
		if err != nil || resp.Error != nil {
			if err == nil {
				err = resp.Error
			}
			r.log.Debug("subscribing for a listen stream", "upstream", name, "err", err)
			r.unsubscribe(id, s.key)
			s.releaseConn()
			return false
		}
	}
	l.subs = append(l.subs, s)
	return true
}

// releaseListenSubs drops l's subscriptions; an upstream whose last holder
// of a URI was l is unsubscribed in the background.
func (r *Relay) releaseListenSubs(l *listen) {
	for i := range l.subs {
		s := &l.subs[i]
		if r.unsubscribe(l.client.SessionID, s.key) > 0 || r.ctx.Err() != nil {
			s.releaseConn() // still held by others, or the relay is closing
			continue
		}
		if s.modern {
			r.stopListen(resourceListenKey(s.upstream, s.key))
			s.releaseConn()
			continue
		}
		u, _ := r.conn(s.upstream)
		r.wg.Go(func() {
			defer s.releaseConn()
			ctx, cancel := context.WithTimeout(r.ctx, u.CallTimeout)
			defer cancel()
			if _, err := s.conn.Call(ctx, mcp.MethodResourcesUnsubscribe, jsonrpc.MustRaw(map[string]string{"uri": s.uri})); err != nil {
				r.log.Debug("unsubscribing after the last listen left", "upstream", s.upstream, "err", err)
			}
		})
	}
	l.subs = nil
}

// notifyListensUpdated sends an upstream's notifications/resources/updated
// for uri to every listen holding it, tagged with that listen's
// subscriptionId; the upstream's own is replaced [SUB §Receiving
// Notifications].
func (r *Relay) notifyListensUpdated(o origin, uri string, params json.RawMessage) {
	r.dropReads(o, uri) // readcache.go: the cached read is stale now
	key := o.subKey(uri)
	r.mu.Lock()
	var targets []*listen
	if set := r.subs[key]; len(set) > 0 {
		for l := range r.listens {
			if _, ok := set[l.client.SessionID]; ok {
				targets = append(targets, l)
			}
		}
	}
	r.mu.Unlock()
	if len(targets) == 0 {
		return
	}
	var p map[string]json.RawMessage
	if json.Unmarshal(params, &p) != nil || p == nil {
		p = map[string]json.RawMessage{"uri": jsonrpc.MustRaw(uri)}
	}
	var meta map[string]json.RawMessage
	_ = json.Unmarshal(p["_meta"], &meta)
	if meta == nil {
		meta = map[string]json.RawMessage{}
	}
	for _, l := range targets {
		meta[mcp.MetaSubscriptionID] = l.id
		p["_meta"] = jsonrpc.MustRaw(meta)
		if err := l.send(jsonrpc.NewNotification(mcp.NotificationResourceUpdated, jsonrpc.MustRaw(p))); err != nil {
			r.log.Debug("listen stream refused a notification", "session", l.client.SessionID, "err", err)
		}
	}
}
