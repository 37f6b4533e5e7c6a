package relay

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// The resources/read cache of docs/protocol-eras.md §4.5: a read result
// that carries ttlMs > 0 (a 2026-07-28 upstream's; session-era results
// carry none and are never cached) is kept for that long and served to
// 2026-07-28 clients with the remaining ttlMs, by URI when its cacheScope
// is "public" and by URI and principal when "private" [CACHE §Cache Scope
// Field: private results MUST NOT be shared across authorization
// contexts]. Per-user upstreams' results are always kept per principal.
// An upstream's notifications/resources/updated for the URI drops it
// [CACHE §Interaction with Notifications].
//
// Bounded: at most readCacheEntries results of at most readCacheEntryBytes
// each; when full, expired entries are dropped, and if none is, the new
// result is not kept (no live entry is evicted: the bound is for memory,
// not a policy).

const (
	readCacheEntries    = 1024
	readCacheEntryBytes = 256 << 10
)

// readKey identifies a cached read: upstream, URI, and for a private
// result its principal ("" for a public one).
type readKey struct{ upstream, uri, user string }

// readEntry is a cached result split around its ttlMs value, so that the
// remaining ttlMs is spliced in without a scan.
type readEntry struct {
	head, tail []byte // the result before and after the ttlMs value
	until      time.Time
}

// readCache is the Relay's resources/read cache.
type readCache struct {
	mu      sync.Mutex // guards entries
	entries map[readKey]*readEntry
}

// readTarget is where a stateless resources/read goes: the URI and its
// owning upstream.
type readTarget struct {
	uri, upstream, user string
	perUser             bool
}

// readTargetOf resolves msg's URI to its owner; ok is false when the
// request cannot be served from the cache (bad params, no owner: dispatch
// reports those).
func (r *Relay) readTargetOf(ctx context.Context, c *Client, msg *jsonrpc.Message) (t readTarget, ok bool) {
	var p struct {
		URI string `json:"uri"`
	}
	if json.Unmarshal(msg.Params, &p) != nil || p.URI == "" {
		return t, false
	}
	cat, rpcErr := r.catalogFor(ctx, c)
	if rpcErr != nil {
		return t, false
	}
	name, found := r.resourceOwner(cat, p.URI)
	if !found {
		return t, false
	}
	u, _ := r.conn(name)
	return readTarget{uri: p.URI, upstream: name, user: c.Principal.Key(), perUser: u.PerUser != nil}, true
}

// cachedRead returns the cached result for t with its remaining ttlMs, or
// nil.
func (r *Relay) cachedRead(t readTarget) json.RawMessage {
	now := time.Now()
	rc := &r.reads
	rc.mu.Lock()
	defer rc.mu.Unlock()
	keys := [2]readKey{{t.upstream, t.uri, t.user}, {t.upstream, t.uri, ""}}
	if t.perUser {
		keys[1] = keys[0] // never shared across principals
	}
	for _, k := range keys {
		e := rc.entries[k]
		if e == nil {
			continue
		}
		rem := e.until.Sub(now)
		if rem <= 0 {
			delete(rc.entries, k)
			continue
		}
		out := make([]byte, 0, len(e.head)+len(e.tail)+20)
		out = append(out, e.head...)
		out = strconv.AppendInt(out, rem.Milliseconds(), 10)
		return append(out, e.tail...)
	}
	return nil
}

// storeRead keeps result for t when it carries ttlMs > 0.
func (r *Relay) storeRead(t readTarget, result json.RawMessage) {
	if len(result) > readCacheEntryBytes {
		return
	}
	var (
		ttlAt, ttlEnd = -1, -1 // where ttlMs's value is in result
		ttl           float64
		private       bool
	)
	if !jsonrpc.Members(result, func(m jsonrpc.Member) bool {
		switch string(m.Key) {
		case "ttlMs":
			if json.Unmarshal(m.Value, &ttl) == nil {
				ttlAt, ttlEnd = m.Start, m.End
			}
		case "cacheScope":
			private = string(m.Value) == `"private"`
		}
		return true
	}) || ttlAt < 0 || ttl < 1 {
		return // no freshness: a session-era result, or ttlMs 0
	}
	ttl = min(ttl, float64(maxUpstreamTTL/time.Millisecond))
	k := readKey{t.upstream, t.uri, ""}
	if private || t.perUser {
		k.user = t.user
	}
	e := &readEntry{
		head:  append([]byte(nil), result[:ttlAt]...),
		tail:  append([]byte(nil), result[ttlEnd:]...),
		until: time.Now().Add(time.Duration(ttl) * time.Millisecond),
	}
	rc := &r.reads
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.entries == nil {
		rc.entries = map[readKey]*readEntry{}
	}
	if _, replace := rc.entries[k]; !replace && len(rc.entries) >= readCacheEntries {
		now := time.Now()
		for key, old := range rc.entries {
			if !now.Before(old.until) {
				delete(rc.entries, key)
			}
		}
		if len(rc.entries) >= readCacheEntries {
			return
		}
	}
	rc.entries[k] = e
}

// dropReads forgets every cached read of uri from upstream (an update
// notification: for a per-user upstream only user's).
func (r *Relay) dropReads(o origin, uri string) {
	rc := &r.reads
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for k := range rc.entries {
		if k.upstream == o.upstream && k.uri == uri && (o.user == "" || k.user == o.user) {
			delete(rc.entries, k)
		}
	}
}

// statelessRead answers a 2026-07-28 client's resources/read from the
// cache when it can, else through dispatch, keeping a cacheable result.
func (r *Relay) statelessRead(ctx context.Context, c *Client, msg *jsonrpc.Message, out Stream) (json.RawMessage, *jsonrpc.Error) {
	t, ok := r.readTargetOf(ctx, c, msg)
	if ok {
		if hit := r.cachedRead(t); hit != nil {
			return hit, nil
		}
	}
	result, rpcErr := r.dispatch(ctx, c, msg, out)
	if ok && rpcErr == nil && msg.Method == mcp.MethodResourcesRead {
		r.storeRead(t, result)
	}
	return result, rpcErr
}
