package relay

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// UserConns hands out each user's own connection to an upstream (package
// upstream/peruser implements it). release ends the caller's use.
type UserConns interface {
	Acquire(ctx context.Context, userKey string) (conn upstream.Conn, release func(), err error)
}

// ErrCapacity is what a UserConns wraps when it cannot start another
// connection (a process limit): the client gets a retryable error.
var ErrCapacity = errors.New("upstream capacity reached")

// info returns the upstream's Info, nil for a per-user upstream (each user's
// connection has its own).
func (u Upstream) info() *upstream.Info {
	if u.Conn == nil {
		return nil
	}
	return u.Conn.Info()
}

// UserHandler returns the upstream.Handler for user userKey's connection to
// a per-user upstream: what that connection sends reaches only that user's
// sessions. Bind it to the connection once built.
func (r *Relay) UserHandler(userKey string) *UserHandler {
	return &UserHandler{r: r, user: userKey}
}

// UserHandler routes one user's per-user connection's messages.
type UserHandler struct {
	r    *Relay
	user string

	mu   sync.Mutex // guards conn
	conn upstream.Conn
}

// Bind sets the connection the handler answers on.
func (h *UserHandler) Bind(c upstream.Conn) {
	h.mu.Lock()
	h.conn = c
	h.mu.Unlock()
}

func (h *UserHandler) origin(name string) (origin, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return origin{upstream: name, conn: h.conn, user: h.user}, h.conn != nil
}

// UpstreamMessage implements upstream.Handler.
func (h *UserHandler) UpstreamMessage(name string, msg *jsonrpc.Message) {
	if o, ok := h.origin(name); ok {
		h.r.upstreamMessage(o, msg)
	}
}

// UpstreamReady implements upstream.Handler: the user's lists are read again.
func (h *UserHandler) UpstreamReady(name string, info *upstream.Info) {
	if o, ok := h.origin(name); ok {
		h.r.goRefreshFrom(o, listTools, listPrompts, listResources, listTemplates)
		h.r.listenChanges(listChangesKey(name, h.user), name, o.conn, info) // modern_listen.go
		h.r.noteUserTasks(name, info)
	}
}

// owns reports whether a message from o may reach client c: any client for
// a shared connection, only the connection's user's for a per-user one.
func (o origin) owns(c *Client) bool { return o.user == "" || c.Principal.Key() == o.user }

// subKey keys a resource subscription: by URI for a shared upstream, by user
// and URI for a per-user one (each user's connection is subscribed apart).
func (o origin) subKey(uri string) string {
	if o.user == "" {
		return uri
	}
	return o.user + "\x00" + uri
}

func (r *Relay) subKey(name string, c *Client, uri string) string {
	if u, ok := r.conn(name); ok && u.PerUser != nil {
		return origin{user: c.Principal.Key()}.subKey(uri)
	}
	return uri
}

// goRefreshFrom re-reads lists after a change reported by o, in the
// background, and tells the sessions that can see the lists.
func (r *Relay) goRefreshFrom(o origin, kinds ...listKind) {
	if o.user == "" {
		r.goRefresh(o.upstream, kinds...)
		return
	}
	r.wg.Go(func() {
		changed := r.refreshUser(r.ctx, o.upstream, o.user, o.conn, kinds...)
		r.notifyChanged(changed, o.owns)
	})
}

// notifyChanged sends list_changed for each changed list to the attached
// clients that see it.
func (r *Relay) notifyChanged(changed [4]bool, sees func(*Client) bool) {
	r.notifyListens(changed, sees)
	for k, method := range [...]string{
		listTools:     mcp.NotificationToolsListChanged,
		listPrompts:   mcp.NotificationPromptsListChanged,
		listResources: mcp.NotificationResourcesListChanged,
	} {
		if !changed[k] {
			continue
		}
		msg := jsonrpc.NewNotification(method, nil)
		r.mu.Lock()
		var targets []*Client
		for _, c := range r.clients {
			if sees(c) {
				targets = append(targets, c)
			}
		}
		r.mu.Unlock()
		for _, c := range targets {
			r.sendStandalone(c, msg)
		}
	}
}

// catalogFor returns the catalog client c sees: the shared one, or with
// per-user upstreams, one that includes c's user's own lists (read from the
// user's connections the first time they are needed).
//
// When a user's connection cannot be had (a process limit, say), the
// catalog lacks that upstream and the error is returned too, so that the
// client hears why instead of seeing tools vanish.
func (r *Relay) catalogFor(ctx context.Context, c *Client) (*catalog, *jsonrpc.Error) {
	if !r.hasPerUser {
		return r.catalog.Load(), nil
	}
	user := c.Principal.Key()
	r.refreshMu.Lock()
	cat := r.userCats[user]
	var missing []Upstream
	for _, u := range r.upstreams {
		if u.PerUser != nil && r.userLists[user][u.Name] == nil {
			missing = append(missing, u)
		}
	}
	r.refreshMu.Unlock()
	if cat != nil && len(missing) == 0 {
		return cat, nil
	}
	var acqErr *jsonrpc.Error
	for _, u := range missing {
		conn, release, err := u.PerUser.Acquire(ctx, user)
		if err != nil {
			if acqErr == nil {
				acqErr = r.acquireError(u.Name, err)
			}
			continue
		}
		r.refreshUser(ctx, u.Name, user, conn, listTools, listPrompts, listResources, listTemplates)
		release()
	}
	r.refreshMu.Lock()
	defer r.refreshMu.Unlock()
	if cat = r.userCats[user]; cat == nil {
		cat = r.buildCatalogLocked(user)
		r.userCats[user] = cat
	}
	return cat, acqErr
}

// refreshUser re-reads lists of user's connection to a per-user upstream
// and rebuilds that user's catalog; it reports which lists changed.
func (r *Relay) refreshUser(ctx context.Context, name, user string, conn upstream.Conn, kinds ...listKind) (changed [4]bool) {
	info := conn.Info()
	if info == nil {
		return changed // not initialized yet; UpstreamReady will call again
	}
	fetched := r.fetchLists(ctx, name, conn, info, kinds)
	r.refreshMu.Lock()
	defer r.refreshMu.Unlock()
	byUp := r.userLists[user]
	if byUp == nil {
		byUp = map[string]*upstreamLists{}
		r.userLists[user] = byUp
	}
	l := byUp[name]
	if l == nil {
		l = &upstreamLists{}
		byUp[name] = l
	}
	l.set(fetched)
	old := r.userCats[user]
	next := r.buildCatalogLocked(user)
	r.userCats[user] = next
	if old == nil {
		return changed
	}
	return catalogChanges(old, next)
}

// acquireError turns a failure to get a user's connection into the
// client's error.
func (r *Relay) acquireError(name string, err error) *jsonrpc.Error {
	if errors.Is(err, ErrCapacity) {
		return &jsonrpc.Error{Code: jsonrpc.CodeUpstreamUnavailable,
			Message: fmt.Sprintf("Upstream %q is at capacity; retry later", name),
			Data:    jsonrpc.MustRaw(map[string]int{"retryAfterSeconds": 30})}
	}
	r.log.Warn("starting a per-user upstream", "upstream", name, "err", err)
	return jsonrpc.NewError(jsonrpc.CodeUpstreamUnavailable, fmt.Sprintf("Upstream %q is unavailable", name))
}

// Reserve starts (or finds) p's own connections to every per-user upstream
// before p's session is created, so that a full gateway refuses the session
// up front instead of failing its calls, and the first call finds warm
// processes. It returns only capacity errors (wrapping ErrCapacity); a user
// who cannot use an upstream for another reason (no credential) still gets
// a session and hears why on the call.
func (r *Relay) Reserve(ctx context.Context, p principal.Principal) error {
	if !r.hasPerUser {
		return nil
	}
	for _, u := range r.upstreams {
		if u.PerUser == nil {
			continue
		}
		_, release, err := u.PerUser.Acquire(ctx, p.Key())
		switch {
		case errors.Is(err, ErrCapacity):
			return fmt.Errorf("reserving upstream %q: %w", u.Name, err)
		case err != nil:
			r.log.Info("per-user upstream unavailable to a new session", "upstream", u.Name, "err", err)
		default:
			release()
		}
	}
	return nil
}
