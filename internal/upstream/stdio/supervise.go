package stdio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// runOnce is the upstream.Supervisor's attempt: it runs one process from
// spawn to reaping; the supervisor starts the next after a backoff.
//
//	stopped ─Start─▶ starting ─init ok─▶ ready ─died─▶ restarting ─backoff─▶ starting …
//	                    └──init failed / died──────────────▲
//	any state ─Close, or MaxRestarts exceeded─▶ stopped
//
// It returns how long the
// process was ready and why it ended (nil when ctx ended it).
func (c *Conn) runOnce(ctx context.Context, onReady func()) (readyFor time.Duration, err error) {
	c.sup.Lock()
	c.attempts++
	c.sup.Unlock()
	if ctx.Err() != nil {
		return 0, nil // closed before the first spawn
	}
	p, err := c.spawn()
	if err != nil {
		return 0, err
	}
	c.sup.Lock()
	c.cur = p
	c.sup.Unlock()

	var readyAt time.Time
	died := false // while ready; err is then filled in after stop
	info, err := c.handshake(ctx, p)
	if err == nil {
		c.sup.Publish(func() {
			c.info.Store(info)
			c.meta.Store(modernMeta(info, c.opts.ClientInfo))
			c.ready.Store(p)
		})
		readyAt = time.Now()
		c.log.Info("upstream ready", "pid", p.pid, "protocolVersion", info.ProtocolVersion, "era", eraName(info.Era))
		onReady()
		if c.h != nil {
			c.h.UpstreamReady(c.opts.Name, info)
		}
		select {
		case <-p.dead:
			died = true
		case <-ctx.Done():
		}
	}

	// Calls fail from here on; those in flight get ErrUnavailable as soon
	// as stop marks the process dead.
	c.sup.Retract(ctx, func() { c.ready.Store(nil) })
	p.stop(c.opts.ShutdownGrace)
	c.sup.Lock()
	c.cur = nil
	c.sup.Unlock()

	if !readyAt.IsZero() {
		readyFor = time.Since(readyAt)
	}
	if ctx.Err() != nil {
		return readyFor, nil
	}
	// After stop the exit status is known.
	switch {
	case died:
		err = p.cause()
	case errors.Is(err, upstream.ErrUnavailable):
		err = fmt.Errorf("initializing: %w", p.cause())
	}
	return readyFor, err
}

// initialize runs the initialization phase with the new process
// [L §Initialization]: initialize in the configured revision, accept the
// answered revision if the gateway speaks it, then notifications/initialized.
func (c *Conn) initialize(ctx context.Context, p *process) (*upstream.Info, error) {
	ictx, cancel := context.WithTimeout(ctx, c.opts.InitTimeout)
	defer cancel()
	id := c.nextID.Add(1)
	line, err := appendRequest(nil, id, mcp.MethodInitialize, c.initParams)
	if err != nil {
		return nil, fmt.Errorf("initializing: %w", err)
	}
	// Initialize is never cancelled [C §Behavior Requirements 2]: on timeout
	// the process is stopped instead.
	m, _, err := p.call(ictx, id, line)
	switch {
	case err == nil:
	case errors.Is(err, upstream.ErrUnavailable):
		return nil, err // died; runOnce says why once it is reaped
	case ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded):
		return nil, fmt.Errorf("initializing: no answer within %s", c.opts.InitTimeout)
	default:
		return nil, fmt.Errorf("initializing: %w", err)
	}
	if m.Error != nil {
		return nil, fmt.Errorf("initializing: upstream answered error %d: %s", m.Error.Code, m.Error.Message)
	}
	var info upstream.Info
	if err := json.Unmarshal(m.Result, &info); err != nil {
		return nil, fmt.Errorf("initializing: reading the result: %w", err)
	}
	info.Raw = m.Result
	// The server answers the requested revision or another it supports; a
	// client that cannot use the answer SHOULD disconnect
	// [L §Version Negotiation].
	if !mcp.Supported(info.ProtocolVersion) {
		return nil, fmt.Errorf("initializing: upstream answered protocol version %q, which the gateway does not speak", info.ProtocolVersion)
	}
	// After a successful initialize the client MUST send
	// notifications/initialized [L §Initialization].
	line, _ = appendNotification(nil, mcp.NotificationInitialized, nil)
	if err := p.send(ictx, line); err != nil {
		return nil, fmt.Errorf("initializing: sending initialized: %w", err)
	}
	return &info, nil
}
