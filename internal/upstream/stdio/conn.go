// Package stdio runs an MCP server as a supervised subprocess and talks to it
// over the stdio transport: newline-delimited JSON-RPC on its stdin and
// stdout, its stderr logged line by line [T §stdio].
//
// A Conn runs its processes on an upstream.Supervisor, the lifecycle every
// supervised upstream shares: one goroutine that spawns the process,
// initializes it in the upstream's own protocol version (runOnce), restarts
// it with backoff when it dies, and stops it in the order the specification gives (close stdin,
// SIGTERM, SIGKILL) [L §Shutdown]. The child runs in its own process group,
// which is what the signals reach, so wrappers such as npx take their
// children down with them. Unix only.
//
// Citations: [T] docs/specification/2025-11-25/basic/transports.mdx,
// [L] .../basic/lifecycle.mdx, [C] .../basic/utilities/cancellation.mdx,
// [P] .../basic/utilities/ping.mdx.
package stdio

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// Transport is the value of upstream.Status.Transport for stdio upstreams.
const Transport = "stdio"

var (
	// ErrStarted is returned by a second Start.
	ErrStarted = upstream.ErrStarted
	// ErrClosed is returned by Start after Close.
	ErrClosed = upstream.ErrClosed
)

// Conn is a supervised stdio upstream. It implements upstream.Conn,
// upstream.Lifecycle and upstream.StatusReporter.
type Conn struct {
	opts       Options
	h          upstream.Handler // nil: notifications dropped, requests refused
	log        *slog.Logger
	env        []string
	initParams json.RawMessage
	// sup runs the processes one after another (runOnce) and holds the
	// state, the restart backoff and the lifecycle calls.
	sup *upstream.Supervisor

	nextID atomic.Int64                  // the last upstream-side request id used
	ready  atomic.Pointer[process]       // the current process while it is ready
	info   atomic.Pointer[upstream.Info] // the latest InitializeResult
	// meta holds the _meta fields added to requests that lack them while
	// the ready process is modern (probe.go); nil for session-era ones.
	meta atomic.Pointer[[]byte]
	// learned remembers the era ProtocolAuto settled on (probe.go):
	// Options.EraMemory, or the Conn's own.
	learned *upstream.EraMemory

	// Guarded by the supervisor's lock (sup.Lock), with the transitions of
	// ready: the current process, from spawn until it is reaped, and how
	// many processes were spawned since Start (the first and its
	// restarts).
	cur      *process
	attempts int
}

var _ interface {
	upstream.Conn
	upstream.Lifecycle
	upstream.StatusReporter
} = (*Conn)(nil)

// New returns a Conn for opts; nothing runs until Start. h receives what the
// upstream sends on its own; a nil h drops notifications and answers the
// upstream's requests with a method-not-found error. h.UpstreamMessage runs
// on the process's read loop and h.UpstreamReady on the supervisor, so
// neither may block for long, wait for a Call on this Conn, or call Close.
// Pings from the upstream are answered here and not passed on. A nil log
// discards logs.
func New(opts Options, h upstream.Handler, log *slog.Logger) (*Conn, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("configuring upstream %q: %w", opts.Name, err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// [L §Initialization] the client sends protocolVersion, capabilities and clientInfo.
	params, err := json.Marshal(struct {
		ProtocolVersion string          `json:"protocolVersion"`
		Capabilities    json.RawMessage `json:"capabilities"`
		ClientInfo      json.RawMessage `json:"clientInfo"`
	}{opts.ProtocolVersion, opts.Capabilities, opts.ClientInfo})
	if err != nil {
		return nil, fmt.Errorf("configuring upstream %q: encoding initialize params: %w", opts.Name, err)
	}
	c := &Conn{
		opts:       opts,
		h:          h,
		log:        log.With("upstream", opts.Name),
		env:        childEnv(opts.Env),
		initParams: params,
		learned:    cmp.Or(opts.EraMemory, &upstream.EraMemory{}),
	}
	c.sup = upstream.NewSupervisor(upstream.SupervisorOptions{
		Name:        opts.Name,
		BackoffMin:  opts.RestartBackoffMin,
		BackoffMax:  opts.RestartBackoffMax,
		StableAfter: opts.StableAfter,
		MaxRestarts: opts.MaxRestarts,
		RunOnce:     c.runOnce,
		Logger:      c.log,
	})
	return c, nil
}

// Name is the upstream's configured name.
func (c *Conn) Name() string { return c.opts.Name }

// State is the current health. It is StateStopped before Start.
func (c *Conn) State() upstream.State { return c.sup.State() }

// Info returns the latest InitializeResult, or nil before the first one. It
// must not be modified.
func (c *Conn) Info() *upstream.Info { return c.info.Load() }

// Status reports the upstream's health for /health. It never includes the
// environment or the command line.
func (c *Conn) Status() upstream.Status {
	// The supervisor counts failed attempts (one more than the restarts
	// once it gives up); a stdio upstream reports the processes restarted.
	_, lastErr := c.sup.Counts()
	s := upstream.Status{
		Name:      c.opts.Name,
		Transport: Transport,
		State:     c.sup.State(),
		LastError: lastErr,
	}
	c.sup.Lock()
	s.Restarts = max(c.attempts-1, 0)
	if p := c.cur; p != nil {
		s.PID, s.StartedAt = p.pid, p.startedAt
	}
	c.sup.Unlock()
	if info := c.info.Load(); info != nil {
		s.ProtocolVersion = info.ProtocolVersion
	}
	return s
}

// Start starts the supervisor and waits, bounded by ctx, for the first
// process to become ready or fail. It returns that first failure (or
// ctx.Err()), but the supervisor keeps restarting the process with backoff
// until Close either way.
func (c *Conn) Start(ctx context.Context) error { return c.sup.Start(ctx) }

// Close stops the upstream for good: calls in flight fail with
// upstream.ErrUnavailable, the process is shut down (stdin closed, then
// SIGTERM, then SIGKILL to its process group, ShutdownGrace apart) and
// reaped. Close waits for all of it, bounded by ctx; the shutdown goes on
// in the background if ctx ends first. Close may be called more than once.
func (c *Conn) Close(ctx context.Context) error { return c.sup.Close(ctx) }

// Call sends a request with a fresh upstream id and waits for its response,
// which may be a JSON-RPC error response. params must be valid JSON (as from
// jsonrpc.Decode) or empty. If ctx ends first, Call sends
// notifications/cancelled upstream and returns ctx.Err(). If the upstream is
// not ready (after waiting up to Options.ReadyWait) or dies with the call in
// flight, it returns an error wrapping upstream.ErrUnavailable at once.
func (c *Conn) Call(ctx context.Context, method string, params json.RawMessage) (*jsonrpc.Message, error) {
	p, err := c.live(ctx)
	if err != nil {
		return nil, err
	}
	if meta := c.meta.Load(); meta != nil {
		// Every request to a modern upstream carries the per-request
		// protocol fields [B26 §_meta]; forwarded requests bring the
		// client's, the gateway's own get clientCapabilities {}.
		params = upstream.WithMeta(params, *meta)
	} else {
		// A session-era upstream works in the version of its initialize;
		// a 2026-07-28 client's per-request version is not for it.
		params = upstream.DropProtocolVersion(params)
	}
	id := c.nextID.Add(1)
	line, err := appendRequest(p.lineBuffer(64+len(method)+len(params)), id, method, params)
	if err != nil {
		return nil, fmt.Errorf("calling upstream %q: %w", c.opts.Name, err)
	}
	m, sent, err := p.call(ctx, id, line)
	if sent && err != nil && err == ctx.Err() {
		c.cancelUpstream(ctx, p, id)
	}
	return m, err
}

// cancelUpstream tells the upstream to stop working on request id
// [C §Cancellation Flow]. The id is one the gateway sent and still believes
// in progress [C §Behavior Requirements 1]; a response that arrives later is
// ignored [C §Behavior Requirements 5, §Timing Considerations]. Initialize
// never comes through here [C §Behavior Requirements 2].
func (c *Conn) cancelUpstream(ctx context.Context, p *process, id int64) {
	reason := "request cancelled"
	// The relay ends timed-out calls with a cause that wraps
	// DeadlineExceeded (relay/deadline.go); a plain deadline shows in Cause
	// too.
	if errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
		reason = "request timed out"
	}
	params := fmt.Appendf(nil, `{"requestId":%d,"reason":%q}`, id, reason)
	line, _ := appendNotification(nil, mcp.NotificationCancelled, params) // params are well-formed
	// The caller's ctx is over; bound the wait for queue room separately.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.ShutdownGrace)
	defer cancel()
	if err := p.send(sctx, line); err != nil {
		c.log.Debug("upstream cancellation not sent", "id", id, "err", err)
	}
}

// Notify queues a notification for the upstream. It returns once the
// message is queued for writing, not when it is written.
func (c *Conn) Notify(ctx context.Context, method string, params json.RawMessage) error {
	p, err := c.live(ctx)
	if err != nil {
		return err
	}
	line, err := appendNotification(make([]byte, 0, 48+len(method)+len(params)), method, params)
	if err != nil {
		return fmt.Errorf("notifying upstream %q: %w", c.opts.Name, err)
	}
	return p.send(ctx, line)
}

// Respond queues the answer to a request the upstream sent; msg carries the
// upstream's own id. If the process that asked has since died, or the id
// is not one it asked with (or was answered already), Respond returns an
// error wrapping upstream.ErrUnavailable and writes nothing: a restarted
// server must not receive answers meant for its predecessor.
func (c *Conn) Respond(ctx context.Context, msg *jsonrpc.Message) error {
	if msg == nil || msg.Kind() != jsonrpc.KindResponse {
		return fmt.Errorf("responding to upstream %q: not a response", c.opts.Name)
	}
	c.sup.Lock()
	p := c.cur
	c.sup.Unlock()
	if p == nil || !p.takeInbound(msg.ID) {
		return fmt.Errorf("responding to upstream %q: %w: no pending request with that id", c.opts.Name, upstream.ErrUnavailable)
	}
	return p.send(ctx, appendResponse(nil, msg))
}

// live returns the ready process, waiting up to Options.ReadyWait for one
// while the upstream is starting or restarting.
func (c *Conn) live(ctx context.Context) (*process, error) {
	if p := c.ready.Load(); p.alive() {
		return p, nil
	}
	var p *process
	err := c.sup.WaitReady(ctx, c.opts.ReadyWait, func() bool {
		p = c.ready.Load()
		return p.alive()
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}
