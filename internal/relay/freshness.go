package relay

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// Freshness of the upstream lists the catalog is built from, and the
// caching hints of list results sent to 2026-07-28 clients
// (docs/protocol-eras.md §4.5). [CACHE] is
// docs/specification/draft/server/utilities/caching.mdx.
//
// Client requests never ask an upstream for a list: lists are served from
// the catalog. An upstream's list is re-read when the upstream (re)starts,
// when it announces a change, and when a client asks for a list that has
// gone stale; then the stale list is served while one background refresh
// per upstream runs.
//
//	upstream list                       fresh until
//	ttlMs in its result (2026-07-28)    received + max(ttlMs, minFreshness)
//	listChanged declared                the upstream announces a change
//	neither (session era)               fetched + Options.LegacyListTTL
//	read failed                         now + retryFreshness (old items kept)

const (
	// DefaultMaxTTL is Options.MaxTTL's zero value.
	DefaultMaxTTL = 60 * time.Second
	// DefaultLegacyListTTL is Options.LegacyListTTL's zero value.
	DefaultLegacyListTTL = 60 * time.Second
	// minFreshness bounds how often an upstream that calls its lists
	// immediately stale (ttlMs 0) is asked again: at most once a second.
	minFreshness = time.Second
	// maxUpstreamTTL caps an upstream's ttlMs (a day), so that a huge
	// value cannot overflow a time.Duration.
	maxUpstreamTTL = 24 * time.Hour
	// failedListRetry is how long a list whose read failed is served
	// before the next client request tries again.
	failedListRetry = 5 * time.Second
)

// listFreshness is how long one upstream list stays fresh.
type listFreshness struct {
	until   time.Time // zero: until the upstream announces a change
	private bool      // the upstream said cacheScope "private"
}

// stale reports whether the list is stale at now.
func (f listFreshness) stale(now time.Time) bool {
	return !f.until.IsZero() && !now.Before(f.until)
}

// listHints are the caching hints of the pages of one upstream list.
type listHints struct {
	ttl     time.Duration // the smallest ttlMs of the pages
	hasTTL  bool
	private bool // some page said cacheScope "private"
}

// add records the hints of one page's result.
func (h *listHints) add(res map[string]json.RawMessage) {
	if raw, ok := res["ttlMs"]; ok {
		var ms float64
		if json.Unmarshal(raw, &ms) == nil {
			// [CACHE §TTL Field]: a negative ttlMs is treated as 0.
			ms = min(max(ms, 0), float64(maxUpstreamTTL/time.Millisecond))
			d := time.Duration(ms) * time.Millisecond
			if !h.hasTTL || d < h.ttl {
				h.ttl = d
			}
			h.hasTTL = true
		}
	}
	if string(res["cacheScope"]) == `"private"` {
		h.private = true
	}
}

// freshnessOf decides how long a list of kind k just read from an upstream
// with info stays fresh.
//
// This is also the hook for 2026-07-28 upstreams: a list result that
// carries ttlMs is fresh for that long and its cacheScope is kept, whatever
// the upstream's era; only session-era results lack them.
func (r *Relay) freshnessOf(k listKind, info *upstream.Info, h listHints) listFreshness {
	now := time.Now()
	switch {
	case h.hasTTL:
		// [CACHE §Interaction with Notifications]: a notification still
		// invalidates the list early (UpstreamMessage refreshes it).
		return listFreshness{until: now.Add(max(h.ttl, minFreshness)), private: h.private}
	case k.listChanged(info):
		return listFreshness{private: h.private}
	}
	return listFreshness{until: now.Add(r.legacyListTTL()), private: h.private}
}

// retryFreshness is the freshness of a list whose read failed.
func (r *Relay) retryFreshness() listFreshness {
	return listFreshness{until: time.Now().Add(min(failedListRetry, r.legacyListTTL()))}
}

// listChanged reports whether an upstream with info announces changes of
// list kind k.
func (k listKind) listChanged(info *upstream.Info) bool {
	if info == nil {
		return false
	}
	c := info.Capabilities
	switch k {
	case listTools:
		return c.Tools != nil && c.Tools.ListChanged
	case listPrompts:
		return c.Prompts != nil && c.Prompts.ListChanged
	}
	return c.Resources != nil && c.Resources.ListChanged
}

func (r *Relay) legacyListTTL() time.Duration {
	if r.opts.LegacyListTTL > 0 {
		return r.opts.LegacyListTTL
	}
	return DefaultLegacyListTTL
}

func (r *Relay) maxTTL() time.Duration {
	if r.opts.MaxTTL > 0 {
		return r.opts.MaxTTL
	}
	return DefaultMaxTTL
}

// addFreshness folds one contributing upstream's lists into the catalog's
// freshness.
func (c *catalog) addFreshness(l *upstreamLists) {
	for k, f := range l.fresh {
		if !f.until.IsZero() && (c.staleAt[k].IsZero() || f.until.Before(c.staleAt[k])) {
			c.staleAt[k] = f.until
		}
		c.private[k] = c.private[k] || f.private
	}
}

// ttlMs is the ttlMs of list kind k of cat at now: the remaining freshness
// of its stalest contributing list, capped by Options.MaxTTL, in whole
// seconds (so that the encoded result changes at most once a second).
func (r *Relay) ttlMs(cat *catalog, k listKind, now time.Time) int64 {
	rem := r.maxTTL()
	if at := cat.staleAt[k]; !at.IsZero() {
		rem = min(rem, at.Sub(now))
	}
	if rem < time.Second {
		return 0
	}
	return int64(rem/time.Second) * 1000
}

// listFresh returns the ttlMs of list kind k as client c sees it, and
// starts a background refresh of each stale list behind it, one per
// upstream at a time. The stale list is still served: no client request
// waits on an upstream for a list [CACHE §Freshness Calculation: stale
// responses MAY be served].
func (r *Relay) listFresh(c *Client, cat *catalog, k listKind) int64 {
	now := time.Now()
	if at := cat.staleAt[k]; !at.IsZero() && !now.Before(at) {
		r.refreshStale(c, now)
	}
	return r.ttlMs(cat, k, now)
}

// refreshStale starts one background refresh of every stale list of each
// upstream behind c's catalog that is not already being refreshed.
func (r *Relay) refreshStale(c *Client, now time.Time) {
	user := ""
	if r.hasPerUser {
		user = c.Principal.Key()
	}
	type job struct {
		u     Upstream
		l     *upstreamLists
		kinds []listKind
	}
	var jobs []job
	r.refreshMu.Lock()
	for _, u := range r.upstreams {
		l := r.lists[u.Name]
		if u.PerUser != nil {
			l = r.userLists[user][u.Name]
		}
		if l == nil || l.refreshing {
			continue
		}
		var kinds []listKind
		for k, f := range l.fresh {
			if f.stale(now) {
				kinds = append(kinds, listKind(k))
			}
		}
		if len(kinds) > 0 {
			l.refreshing = true
			jobs = append(jobs, job{u, l, kinds})
		}
	}
	r.refreshMu.Unlock()
	for _, j := range jobs {
		if j.u.PerUser == nil {
			r.goRefresh(j.u.Name, j.kinds...) // clears l.refreshing when stored
			continue
		}
		r.wg.Go(func() {
			defer func() {
				r.refreshMu.Lock()
				j.l.refreshing = false
				r.refreshMu.Unlock()
			}()
			conn, release, err := j.u.PerUser.Acquire(r.ctx, user)
			if err != nil {
				r.log.Debug("refreshing a stale per-user list", "upstream", j.u.Name, "err", err)
				return
			}
			defer release()
			changed := r.refreshUser(r.ctx, j.u.Name, user, conn, j.kinds...)
			r.notifyChanged(changed, origin{user: user}.owns)
		})
	}
}

// listKindOf is the list kind a list method reads.
func listKindOf(method string) listKind {
	switch method {
	case mcp.MethodToolsList:
		return listTools
	case mcp.MethodPromptsList:
		return listPrompts
	case mcp.MethodResourcesList:
		return listResources
	}
	return listTemplates
}

// result is the session-era encoding of list kind k.
func (c *catalog) result(k listKind) json.RawMessage {
	switch k {
	case listTools:
		return c.toolsResult
	case listPrompts:
		return c.promptsResult
	case listResources:
		return c.resourcesResult
	}
	return c.templatesResult
}

// modernList is a list result in the 2026-07-28 encoding for one ttlMs.
type modernList struct {
	ttlMs int64
	body  json.RawMessage
}

// statelessList answers a list request of a 2026-07-28 client from the
// catalog: a result pre-encoded once per catalog and ttlMs, with
// resultType [B26 §ResultType] and the caching hints [CACHE §Cacheable
// Results] ahead of the items, so that serving it costs no scan and no
// copy.
func (r *Relay) statelessList(ctx context.Context, c *Client, msg *jsonrpc.Message) (json.RawMessage, *jsonrpc.Error) {
	cat, rpcErr := r.catalogFor(ctx, c)
	if rpcErr != nil {
		return nil, rpcErr
	}
	k := listKindOf(msg.Method)
	if _, rpcErr := listPage(cat.result(k), msg.Params); rpcErr != nil {
		return nil, rpcErr
	}
	ttl := r.listFresh(c, cat, k)
	if m := cat.modern[k].Load(); m != nil && m.ttlMs == ttl {
		return m.body, nil
	}
	// [CACHE §Choosing a Cache Scope]: private when lists vary by user
	// (per-user upstreams) or an upstream called its list private.
	scope := `"public"`
	if r.hasPerUser || cat.private[k] {
		scope = `"private"`
	}
	legacy := cat.result(k) // {"tools":[…]}: never empty
	b := make([]byte, 0, len(legacy)+64)
	b = append(b, `{"resultType":"complete","ttlMs":`...)
	b = strconv.AppendInt(b, ttl, 10)
	b = append(b, `,"cacheScope":`...)
	b = append(b, scope...)
	b = append(b, ',')
	b = append(b, legacy[1:]...)
	cat.modern[k].Store(&modernList{ttlMs: ttl, body: b})
	return b, nil
}

// discoverTTL is the ttlMs of server/discover for c: that of its lists
// ([DISC]: discover results are cacheable like lists). It reads the
// catalog c already has and starts nothing: discover must stay cheap, and
// a user's per-user lists are read on their first list request.
func (r *Relay) discoverTTL(c *Client) int64 {
	cat := r.catalog.Load()
	if r.hasPerUser {
		r.refreshMu.Lock()
		if uc := r.userCats[c.Principal.Key()]; uc != nil {
			cat = uc
		}
		r.refreshMu.Unlock()
	}
	now := time.Now()
	ttl := r.ttlMs(cat, listTools, now)
	for k := listPrompts; k <= listTemplates; k++ {
		ttl = min(ttl, r.ttlMs(cat, k, now))
	}
	return ttl
}
