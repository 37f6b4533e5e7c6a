// Package remote is the transport-independent half of the gateway's
// connections to remote MCP servers: a supervised upstream.Conn that
// (re)initializes a session through a Dialer, matches responses to calls,
// passes the server's own requests and notifications to the
// upstream.Handler, and restarts the session with backoff when it fails or
// expires. The wire halves are upstream/httpup (Streamable HTTP) and
// upstream/sseup (the 2024-11-05 HTTP+SSE transport); this package also
// holds what both need: the SSE event reader and the tuned HTTP client.
//
// Citations: [T] docs/specification/2025-11-25/basic/transports.mdx,
// [L] .../basic/lifecycle.mdx, [C] .../basic/utilities/cancellation.mdx,
// [P] .../basic/utilities/ping.mdx.
package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/mcpgate/mcpgate/internal/upstream"
)

var (
	// ErrStarted is returned by a second Start.
	ErrStarted = upstream.ErrStarted
	// ErrClosed is returned by Start after Close.
	ErrClosed = upstream.ErrClosed
	// ErrSessionExpired is returned by Session.Send (and ends the session)
	// when the server no longer knows the session: HTTP 404 to a request
	// that carried its id [T §Session Management 3-4]. The Conn then
	// initializes a new session and retries the call once.
	ErrSessionExpired = errors.New("upstream session expired")
)

// DefaultMaxInFlight is the MaxInFlight of its zero value; the other
// defaults are upstream's (upstream.DefaultInitTimeout, …).
const DefaultMaxInFlight = 1024

// Options configure a Conn. The wire options (URL, headers, HTTP client)
// belong to the Dialer.
type Options struct {
	// Name is the upstream's configured name; required.
	Name string
	// Transport names the wire for Status ("http", "sse").
	Transport string
	// ProtocolVersion is the revision asked for at initialize; empty means
	// mcp.Latest. The server may answer an older one, used if the gateway
	// speaks it [L §Version Negotiation].
	ProtocolVersion string
	// ClientInfo is the clientInfo sent at initialize; empty means
	// upstream.DefaultClientInfo.
	ClientInfo json.RawMessage
	// Capabilities is the ClientCapabilities object sent at initialize;
	// empty means upstream.DefaultCapabilities.
	Capabilities json.RawMessage
	// InitTimeout bounds connecting and the initialize round trip; zero
	// means 30s.
	InitTimeout time.Duration
	// RestartBackoffMin and RestartBackoffMax bound the wait before a new
	// session after a failure (upstream.Backoff); zero means 250ms and 30s.
	RestartBackoffMin, RestartBackoffMax time.Duration
	// StableAfter is how long a session must have been ready for the
	// backoff to start over; zero means 30s.
	StableAfter time.Duration
	// ReadyWait is how long Call, Notify and Respond wait for an upstream
	// that is (re)connecting; zero means they fail at once with
	// upstream.ErrUnavailable.
	ReadyWait time.Duration
	// MaxInFlight bounds the calls waiting for a response at once; more
	// wait for room, bounded by their ctx. Zero means 1024.
	MaxInFlight int
	// ShutdownGrace bounds the goodbye to the server on Close (the DELETE
	// of a Streamable HTTP session) and each cancellation notice; zero
	// means 2s.
	ShutdownGrace time.Duration
	// Protocol is the upstream's era (docs/protocol-eras.md §4.1, era.go):
	// upstream.ProtocolAuto probes with server/discover and falls back to
	// initialize, ProtocolModern only discovers, ProtocolLegacy only
	// initializes. The zero value means ProtocolLegacy (no probe). Only a
	// transport whose sessions implement ModernSession (Streamable HTTP)
	// can be modern; the others are always initialized.
	Protocol upstream.Protocol
	// ProbeTimeout bounds the ProtocolAuto probe; zero means 3s.
	ProbeTimeout time.Duration
	// EraMemory, shared by the connections of one configured upstream (a
	// per-user upstream's), remembers what the ProtocolAuto probe found;
	// nil means each Conn remembers for itself.
	EraMemory *upstream.EraMemory
}

func (o Options) withDefaults() (Options, error) {
	var errs []error
	if o.Name == "" {
		errs = append(errs, errors.New("name is required"))
	}
	d := upstream.Durations{Init: &o.InitTimeout, BackoffMin: &o.RestartBackoffMin, BackoffMax: &o.RestartBackoffMax,
		StableAfter: &o.StableAfter, ReadyWait: &o.ReadyWait, ShutdownGrace: &o.ShutdownGrace, Probe: &o.ProbeTimeout}
	errs = append(errs, d.Check()...)
	if o.MaxInFlight < 0 {
		errs = append(errs, errors.New("max in flight must not be negative"))
	}
	if !o.Protocol.Valid() {
		errs = append(errs, fmt.Errorf("unknown protocol %q", o.Protocol))
	}
	errs = append(errs, upstream.CheckInitialize(&o.ProtocolVersion, &o.ClientInfo, &o.Capabilities)...)
	if err := errors.Join(errs...); err != nil {
		return o, err
	}
	d.Fill()
	if o.MaxInFlight == 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	if o.EraMemory == nil {
		o.EraMemory = &upstream.EraMemory{}
	}
	return o, nil
}

// Conn is a supervised connection to a remote MCP server. It implements
// upstream.Conn, upstream.Lifecycle and upstream.StatusReporter.
type Conn struct {
	opts  Options
	dial  Dialer
	h     upstream.Handler // nil: notifications dropped, requests refused
	log   *slog.Logger
	sup   *upstream.Supervisor
	slots chan struct{} // MaxInFlight tokens

	nextID atomic.Int64                  // the last request id used
	ready  atomic.Pointer[attempt]       // the current session while it is ready
	info   atomic.Pointer[upstream.Info] // the latest InitializeResult

	// Guarded by the supervisor's lock (sup.Lock), with the transitions of
	// ready: the current session, from dial until it ends, and when it
	// was dialed.
	cur       *attempt
	startedAt time.Time
}

var _ interface {
	upstream.Conn
	upstream.Lifecycle
	upstream.StatusReporter
} = (*Conn)(nil)

// New returns a Conn that opens its sessions with dial; nothing runs until
// Start. h receives what the server sends on its own; h.UpstreamMessage runs
// on the session's reader and h.UpstreamReady on the supervisor, so neither
// may block for long. Pings from the server are answered here [P]. A nil
// log discards logs.
func New(opts Options, dial Dialer, h upstream.Handler, log *slog.Logger) (*Conn, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("configuring upstream %q: %w", opts.Name, err)
	}
	if dial == nil {
		return nil, fmt.Errorf("configuring upstream %q: no dialer", opts.Name)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Conn{
		opts:  opts,
		dial:  dial,
		h:     h,
		log:   log.With("upstream", opts.Name),
		slots: make(chan struct{}, opts.MaxInFlight),
	}
	c.sup = upstream.NewSupervisor(upstream.SupervisorOptions{
		Name:        opts.Name,
		BackoffMin:  opts.RestartBackoffMin,
		BackoffMax:  opts.RestartBackoffMax,
		StableAfter: opts.StableAfter,
		RunOnce:     c.runOnce,
		Renew: func(err error, readyFor time.Duration) bool {
			// [T §Session Management 4] the server forgot the session: a
			// new one at once (unless that keeps happening).
			return errors.Is(err, ErrSessionExpired) && readyFor >= quickRenew
		},
		Logger: c.log,
	})
	return c, nil
}

// Name is the upstream's configured name.
func (c *Conn) Name() string { return c.opts.Name }

// State is the current health. It is StateStopped before Start.
func (c *Conn) State() upstream.State { return c.sup.State() }

// Info returns the latest InitializeResult, or nil before the first one.
func (c *Conn) Info() *upstream.Info { return c.info.Load() }

// Status reports the upstream's health for /health: never its URL,
// headers or credential.
func (c *Conn) Status() upstream.Status {
	restarts, lastErr := c.sup.Counts()
	c.sup.Lock()
	startedAt := c.startedAt
	c.sup.Unlock()
	s := upstream.Status{
		Name:      c.opts.Name,
		Transport: c.opts.Transport,
		State:     c.State(),
		Restarts:  restarts,
		LastError: lastErr,
		StartedAt: startedAt,
	}
	if info := c.info.Load(); info != nil {
		s.ProtocolVersion = info.ProtocolVersion
	}
	return s
}

// Start starts the supervisor and waits, bounded by ctx, for the first
// session to become ready or fail. It returns that first failure (or
// ctx.Err()), but the supervisor keeps retrying with backoff until Close.
func (c *Conn) Start(ctx context.Context) error { return c.sup.Start(ctx) }

// Close stops the upstream for good: calls in flight fail with
// upstream.ErrUnavailable and the session is ended (a Streamable HTTP
// session with DELETE [T §Session Management 5]). Close waits for all of
// it, bounded by ctx: cancellation notices already under way reach the
// server before the session ends. It may be called more than once.
func (c *Conn) Close(ctx context.Context) error { return c.sup.Close(ctx) }
