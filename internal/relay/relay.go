package relay

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/upstream"
	"github.com/mcpgate/mcpgate/internal/workpool"
)

// Options configure a Relay. The zero value is usable.
type Options struct {
	// Separator joins an upstream's name and a tool's or prompt's name in the
	// aggregated lists. Zero means "__". Upstream names must not contain it,
	// which makes namespaced names unambiguous.
	Separator string
	// PrefixSingle namespaces names even when only one upstream is
	// configured. Zero means a lone upstream's names are exposed unchanged.
	PrefixSingle bool
	// ServerName and ServerVersion fill serverInfo in initialize results.
	// Zero means "mcpgate" and "dev".
	ServerName, ServerVersion string
	// Instructions is sent in initialize results. Zero means the upstreams'
	// own instructions, joined.
	Instructions string
	// ServerRequestTimeout bounds how long a server→client request
	// (sampling, elicitation, roots) waits for the client's answer. Zero
	// means 10 minutes: a person may be answering an elicitation.
	ServerRequestTimeout time.Duration
	// Logger receives the relay's logs. Nil means slog.Default().
	Logger *slog.Logger
	// OnCallTimeout, if set, is called with the upstream's name each time a
	// forwarded call times out (for metrics). Nil means nothing is called.
	OnCallTimeout func(upstream string)
	// MRTR configures multi-round-trip requests for 2026-07-28 clients of
	// session-era upstreams (mrtr_park.go). The zero value is usable.
	MRTR MRTROptions
	// MaxTTL caps the ttlMs of list and discover results sent to
	// 2026-07-28 clients (freshness.go). Zero means DefaultMaxTTL (60s).
	MaxTTL time.Duration
	// LegacyListTTL is how long a list of an upstream that neither
	// declares listChanged nor sends ttlMs stays fresh before a client's
	// list request has it read again. Zero means DefaultLegacyListTTL (60s).
	LegacyListTTL time.Duration
}

// Upstream is one upstream as the relay routes to it: either one shared
// connection (Conn) or one connection per user (PerUser).
type Upstream struct {
	// Conn is the connection every session shares. Nil when PerUser is set.
	Conn upstream.Conn
	// PerUser, when set, gives each user their own connection: calls go to
	// the caller's, and the upstream's lists, notifications and requests
	// are kept per user, so users never see each other's data.
	PerUser UserConns
	// Name is the upstream's name. Zero means Conn.Name(); required with
	// PerUser.
	Name string
	// CallTimeout bounds each forwarded call. Zero means 60s.
	CallTimeout time.Duration
}

// Relay is the MCP core. Create it with New, Register every upstream in
// configuration order, then serve. It implements upstream.Handler.
type Relay struct {
	opts Options
	log  *slog.Logger

	// upstreams is written only by Register, before serving starts.
	upstreams []Upstream
	byName    map[string]int

	// catalog is the current aggregated view; replaced whole on refresh.
	catalog   atomic.Pointer[catalog]
	refreshMu sync.Mutex // serializes catalog rebuilds; guards lists, userLists and userCats
	lists     map[string]*upstreamLists
	// userLists are the lists of per-user upstreams, by user key, then
	// upstream; userCats the catalogs built from them, by user key.
	userLists  map[string]map[string]*upstreamLists
	userCats   map[string]*catalog
	hasPerUser bool // written only by Register

	nextID atomic.Int64 // ids of gateway-made requests and progress tokens

	initCache atomic.Pointer[initCache]     // encoded InitializeResults
	discover  atomic.Pointer[discoverEntry] // encoded DiscoverResult (stateless.go)
	reads     readCache                     // resources/read results with ttlMs (readcache.go)
	mrtr      mrtrRegistry                  // parked multi-round-trip calls (mrtr_park.go)
	metas     sessionMetas                  // pre-encoded _meta for modern upstreams (modern.go)
	upListens upstreamListens               // the gateway's listens on modern upstreams (modern_listen.go)
	tasks     taskState                     // per-user tasks offers, listens following tasks (tasks_peruser.go, tasks_listen.go)

	mu sync.Mutex // guards the fields below
	// clients are the attached client sessions by session ID.
	clients map[string]*Client
	// calls are forwarded client requests in flight, by session and id.
	calls map[callKey]*call
	// progress maps gateway progress tokens to calls.
	progress map[string]*call
	// serverReqs are server→client requests awaiting the client's answer,
	// by the id the gateway gave them.
	serverReqs map[string]*serverRequest
	// subs are resource subscriptions: uri → session IDs.
	subs map[string]map[string]struct{}
	// logLevels are the levels sessions asked for with logging/setLevel.
	logLevels map[string]int
	// listens are the open subscriptions/listen streams of stateless
	// clients (listen.go); replica-local.
	listens map[*listen]struct{}

	wg   sync.WaitGroup // background refreshes
	pool workpool.Pool  // goroutines of parked calls (mrtr_forward.go); the zero value is ready
	// sweepOnce starts the call-timeout sweeper (deadline.go); sweepDone
	// is closed when it has returned, nil before it started.
	sweepOnce sync.Once
	sweepDone chan struct{}
	ctx       context.Context
	cancel    context.CancelFunc
}

// New returns a Relay with no upstreams.
func New(opts Options) *Relay {
	if opts.Separator == "" {
		opts.Separator = "__"
	}
	if opts.ServerName == "" {
		opts.ServerName = "mcpgate"
	}
	if opts.ServerVersion == "" {
		opts.ServerVersion = "dev"
	}
	if opts.ServerRequestTimeout == 0 {
		opts.ServerRequestTimeout = 10 * time.Minute
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Relay{
		opts:       opts,
		log:        log,
		byName:     map[string]int{},
		lists:      map[string]*upstreamLists{},
		userLists:  map[string]map[string]*upstreamLists{},
		userCats:   map[string]*catalog{},
		clients:    map[string]*Client{},
		calls:      map[callKey]*call{},
		progress:   map[string]*call{},
		serverReqs: map[string]*serverRequest{},
		subs:       map[string]map[string]struct{}{},
		logLevels:  map[string]int{},
		listens:    map[*listen]struct{}{},
		ctx:        ctx,
		cancel:     cancel,
	}
	r.catalog.Store(emptyCatalog())
	return r
}

// Register adds an upstream. Call it for every upstream, in configuration
// order, before the upstreams start and before serving.
func (r *Relay) Register(u Upstream) {
	if u.CallTimeout == 0 {
		u.CallTimeout = 60 * time.Second
	}
	if u.Name == "" {
		u.Name = u.Conn.Name()
	}
	r.byName[u.Name] = len(r.upstreams)
	r.upstreams = append(r.upstreams, u)
	r.lists[u.Name] = &upstreamLists{}
	if u.PerUser != nil {
		r.hasPerUser = true
	}
}

// Close stops background work and fails pending server→client requests.
func (r *Relay) Close() {
	r.cancel()
	r.wg.Wait()
	r.sweepOnce.Do(func() {}) // no sweeper may start from now on
	if r.sweepDone != nil {
		<-r.sweepDone
	}
	r.pool.Stop() // its workers run only tasks counted in wg: all idle now
	r.pool.Wait()
	r.mu.Lock()
	reqs := r.serverReqs
	r.serverReqs = map[string]*serverRequest{}
	r.mu.Unlock()
	for _, sr := range reqs {
		sr.stop()
	}
}

// prefixed reports whether names are namespaced by upstream.
func (r *Relay) prefixed() bool { return r.opts.PrefixSingle || len(r.upstreams) > 1 }

func (r *Relay) conn(name string) (Upstream, bool) {
	i, ok := r.byName[name]
	if !ok {
		return Upstream{}, false
	}
	return r.upstreams[i], true
}

// Attach registers a client session so that the relay can reach it.
func (r *Relay) Attach(c *Client) {
	r.mu.Lock()
	r.clients[c.SessionID] = c
	r.mu.Unlock()
}

// Detach forgets a client session: its subscriptions, its log level, and its
// pending server→client requests (answered upstream with an error).
func (r *Relay) Detach(sessionID string) {
	r.metas.forget(sessionID)
	r.mu.Lock()
	delete(r.clients, sessionID)
	delete(r.logLevels, sessionID)
	var lastSubs []string // URIs nobody is subscribed to any more
	for uri, set := range r.subs {
		if _, ok := set[sessionID]; !ok {
			continue
		}
		delete(set, sessionID)
		if len(set) == 0 {
			delete(r.subs, uri)
			lastSubs = append(lastSubs, uri)
		}
	}
	var orphans []*serverRequest
	for id, sr := range r.serverReqs {
		if sr.sessionID == sessionID {
			orphans = append(orphans, sr)
			delete(r.serverReqs, id)
		}
	}
	r.mu.Unlock()
	for _, sr := range orphans {
		sr.stop()
		r.answerUpstream(sr, nil, errSessionGone)
	}
	for _, uri := range lastSubs {
		r.goUnsubscribe(uri)
	}
}

// goUnsubscribe ends the upstream subscription to uri after its last
// subscriber left, in the background.
func (r *Relay) goUnsubscribe(uri string) {
	name, ok := r.resourceOwner(r.catalog.Load(), uri)
	if !ok {
		return
	}
	u, _ := r.conn(name)
	if u.Conn == nil {
		return // per-user subscriptions end with the user's connection
	}
	if isModern(u.Conn) {
		r.stopListen(resourceListenKey(name, uri)) // modern_subs.go
		return
	}
	r.wg.Go(func() {
		ctx, cancel := context.WithTimeout(r.ctx, u.CallTimeout)
		defer cancel()
		params := jsonrpc.MustRaw(map[string]string{"uri": uri})
		if _, err := u.Conn.Call(ctx, mcp.MethodResourcesUnsubscribe, params); err != nil {
			r.log.Debug("unsubscribing after the last subscriber left", "upstream", name, "err", err)
		}
	})
}

// InFlight reports how many client requests are being forwarded upstream.
func (r *Relay) InFlight() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}
