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

// run is the supervisor, the one goroutine that owns the upstream's
// processes: it starts one, initializes it, waits for it to die or for
// Close, stops it, and starts the next after a backoff. The outcome of the
// first attempt goes to first.
//
//	stopped ─Start─▶ starting ─init ok─▶ ready ─died─▶ restarting ─backoff─▶ starting …
//	                    └──init failed / died──────────────▲
//	any state ─Close, or MaxRestarts exceeded─▶ stopped
func (c *Conn) run(ctx context.Context, first chan<- error) {
	defer close(c.done)
	report := func(err error) {
		if first != nil {
			first <- err
			first = nil
		}
	}
	failures := 0 // consecutive, reset by a stable run
	for {
		c.setState(upstream.StateStarting)
		readyFor, err := c.runOnce(ctx, func() { report(nil) })
		if ctx.Err() != nil {
			report(ErrClosed)
			c.setState(upstream.StateStopped)
			c.log.Info("upstream stopped")
			return
		}
		if err == nil { // not expected: every other way out has a cause
			err = errors.New("upstream ended")
		}
		report(err)
		if readyFor >= c.opts.StableAfter {
			failures = 0
		}
		failures++
		c.mu.Lock()
		c.lastErr = sanitize(err.Error())
		c.mu.Unlock()
		if c.opts.MaxRestarts > 0 && failures > c.opts.MaxRestarts {
			c.log.Error("upstream failed too often; giving up", "failures", failures, "err", err)
			c.setState(upstream.StateStopped)
			return
		}
		delay := backoff(failures, c.opts.RestartBackoffMin, c.opts.RestartBackoffMax, c.jitter)
		c.log.Warn("upstream restart", "attempt", failures, "delay", delay, "err", err)
		c.setState(upstream.StateRestarting)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			c.setState(upstream.StateStopped)
			c.log.Info("upstream stopped")
			return
		}
		c.mu.Lock()
		c.restarts++
		c.mu.Unlock()
	}
}

// runOnce runs one process from spawn to reaping. It returns how long the
// process was ready and why it ended (nil when ctx ended it).
func (c *Conn) runOnce(ctx context.Context, onReady func()) (readyFor time.Duration, err error) {
	if ctx.Err() != nil {
		return 0, nil // closed before the first spawn
	}
	p, err := c.spawn()
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	c.cur = p
	c.mu.Unlock()

	var readyAt time.Time
	died := false // while ready; err is then filled in after stop
	info, err := c.handshake(ctx, p)
	if err == nil {
		c.mu.Lock()
		c.info.Store(info)
		c.meta.Store(modernMeta(info, c.opts.ClientInfo))
		c.ready.Store(p)
		c.setStateLocked(upstream.StateReady)
		c.mu.Unlock()
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
	c.mu.Lock()
	c.ready.Store(nil)
	if ctx.Err() == nil {
		c.setStateLocked(upstream.StateRestarting)
	}
	c.mu.Unlock()
	p.stop(c.opts.ShutdownGrace)
	c.mu.Lock()
	c.cur = nil
	c.mu.Unlock()

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

// backoff is the wait before restart attempt n (n ≥ 1): see
// upstream.Backoff, shared by every transport.
func backoff(n int, lo, hi time.Duration, jitter func(int64) int64) time.Duration {
	return upstream.Backoff(n, lo, hi, jitter)
}
