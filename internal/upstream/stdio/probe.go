package stdio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// The era probe (docs/protocol-eras.md §4.1). [STDIO] is
// docs/specification/draft/basic/transports/stdio.mdx (§Backward
// Compatibility): a client that supports both eras sends server/discover
// first and falls back to initialize when the server does not answer it
// with a DiscoverResult.

// errNoAnswer: the upstream did not answer server/discover in time.
var errNoAnswer = errors.New("no answer to server/discover")

// handshake opens a freshly spawned process in its era: discovery for a
// modern upstream, initialize for a session-era one, the probe deciding
// for ProtocolAuto. With ProtocolAuto the first answer (a DiscoverResult,
// an error, or the process exiting) is remembered for the Conn's later
// restarts (and, with Options.EraMemory, for the other connections of the
// same upstream), so a legacy upstream pays the probe once; silence is
// not.
func (c *Conn) handshake(ctx context.Context, p *process) (*upstream.Info, error) {
	proto := c.opts.Protocol
	if learned := c.learned.Load(); proto == upstream.ProtocolAuto && learned != "" {
		proto = learned
	}
	switch proto {
	case upstream.ProtocolModern:
		info, err := c.discover(ctx, p, c.opts.InitTimeout)
		if errors.Is(err, upstream.ErrSessionEra) {
			return nil, fmt.Errorf("discovering (protocol: modern): %w", err)
		}
		return info, err
	case upstream.ProtocolAuto:
	default:
		return c.initialize(ctx, p)
	}
	info, err := c.discover(ctx, p, c.opts.ProbeTimeout)
	switch {
	case err == nil:
		c.learned.Store(upstream.ProtocolModern)
		return info, nil
	case ctx.Err() != nil:
		return nil, err
	case errors.Is(err, upstream.ErrUnavailable):
		// It exited on the probe, as some session-era servers do on an
		// unknown first request: the restart goes straight to initialize.
		c.learned.Store(upstream.ProtocolLegacy)
		return nil, err
	}
	if errors.Is(err, errNoAnswer) {
		// Silence is not remembered: a modern server that was merely slow
		// to start (npx fetching a package) is probed again at the next
		// start. Configure protocol: modern or legacy to skip the wait.
		c.log.Info("upstream did not answer server/discover; initializing", "timeout", c.opts.ProbeTimeout)
		return c.initialize(ctx, p)
	}
	c.log.Info("upstream is session-era; initializing", "probe", err)
	c.learned.Store(upstream.ProtocolLegacy)
	return c.initialize(ctx, p)
}

// discover sends server/discover on p, bounded by timeout. A modern
// upstream's Info comes back with its negotiated version; errors wrap
// upstream.ErrSessionEra when the upstream answered but is not modern.
func (c *Conn) discover(ctx context.Context, p *process, timeout time.Duration) (*upstream.Info, error) {
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	call := func(ctx context.Context, method string, params json.RawMessage) (*jsonrpc.Message, error) {
		id := c.nextID.Add(1)
		line, err := appendRequest(nil, id, method, params)
		if err != nil {
			return nil, err
		}
		m, _, err := p.call(ctx, id, line)
		return m, err
	}
	info, err := upstream.Discover(dctx, call, c.opts.ClientInfo)
	switch {
	case err == nil:
		return info, nil
	case errors.Is(err, upstream.ErrUnavailable):
		return nil, err // died; runOnce says why once it is reaped
	case ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded):
		return nil, fmt.Errorf("discovering: %w within %s", errNoAnswer, timeout)
	}
	return nil, fmt.Errorf("discovering: %w", err)
}

// modernMeta is the _meta fields of the gateway's own requests to a modern
// upstream (clientCapabilities {}), or nil for a session-era one.
func modernMeta(info *upstream.Info, clientInfo json.RawMessage) *[]byte {
	if info.Era != upstream.EraModern {
		return nil
	}
	b := upstream.MetaFields(info.ProtocolVersion, nil, clientInfo, "")
	return &b
}

func eraName(e upstream.Era) string {
	if e == upstream.EraModern {
		return "modern"
	}
	return "session"
}
