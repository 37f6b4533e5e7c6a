package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// quickRenew is how long a session must have been ready for its expiry to
// be followed by a new session at once rather than after a backoff.
const quickRenew = time.Second

// runOnce runs one session from dial to close. It returns how long the
// session was ready and why it ended (nil when ctx ended it).
func (c *Conn) runOnce(ctx context.Context, onReady func()) (readyFor time.Duration, err error) {
	if ctx.Err() != nil {
		return 0, nil
	}
	a := newAttempt(c)
	dctx, cancel := context.WithTimeout(ctx, c.opts.InitTimeout)
	sess, err := c.dial(dctx, a)
	cancel()
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("connecting: no answer within %s", c.opts.InitTimeout)
		}
		return 0, err
	}
	a.setSession(sess)
	c.sup.Lock()
	c.cur = a
	c.startedAt = time.Now()
	c.sup.Unlock()

	var readyAt time.Time
	info, err := c.open(ctx, a) // era.go: discover or initialize
	if err == nil {
		sess.Ready()
		c.sup.Publish(func() {
			c.info.Store(info)
			c.ready.Store(a)
		})
		readyAt = time.Now()
		c.log.Info("upstream ready", "protocolVersion", info.ProtocolVersion, "era", eraName(info.Era))
		onReady()
		if c.h != nil {
			c.h.UpstreamReady(c.opts.Name, info)
		}
		select {
		case <-sess.Done():
			err = sess.Err()
		case <-ctx.Done():
		}
	}

	// Calls fail from here on; those in flight get ErrUnavailable.
	c.sup.Retract(ctx, func() { c.ready.Store(nil) })
	a.fail()
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.ShutdownGrace)
	select {
	case <-sess.Done(): // nothing more reaches the server
	default:
		// A cancellation notice sent just before Close must reach the
		// server before the session's requests are aborted (and its
		// DELETE sent): a server that never hears of it may run the
		// cancelled request on, and hold the DELETE until it ends.
		a.waitBackground(cctx)
	}
	sess.Close(cctx)
	cancel()
	a.bg.Wait() // short: closing the session aborted their requests
	c.sup.Lock()
	c.cur = nil
	c.startedAt = time.Time{}
	c.sup.Unlock()
	if !readyAt.IsZero() {
		readyFor = time.Since(readyAt)
	}
	if ctx.Err() != nil {
		return readyFor, nil
	}
	return readyFor, err
}

// initialize runs the initialization phase on a new session
// [L §Initialization]: initialize in the configured revision, accept the
// answered revision if the gateway speaks it, then
// notifications/initialized.
func (c *Conn) initialize(ctx context.Context, a *attempt) (*upstream.Info, error) {
	ictx, cancel := context.WithTimeout(ctx, c.opts.InitTimeout)
	defer cancel()
	version := c.opts.ProtocolVersion
	for try := 0; ; try++ {
		m, err := c.initOnce(ictx, a, version)
		if err != nil {
			if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
				return nil, fmt.Errorf("initializing: no answer within %s", c.opts.InitTimeout)
			}
			return nil, fmt.Errorf("initializing: %w", err)
		}
		if m.Error != nil {
			// A server that refuses the revision instead of offering its own
			// may list what it supports; retry once with the newest the
			// gateway speaks too.
			if v := fallbackVersion(m.Error, version); try == 0 && v != "" {
				c.log.Info("upstream refused the protocol version; retrying", "asked", version, "retry", v)
				version = v
				continue
			}
			return nil, fmt.Errorf("initializing: upstream answered error %d: %s", m.Error.Code, upstream.ErrorText(m.Error.Message))
		}
		var info upstream.Info
		if err := json.Unmarshal(m.Result, &info); err != nil {
			return nil, fmt.Errorf("initializing: reading the result: %w", err)
		}
		info.Raw = m.Result
		// The server answers the requested revision or another it supports;
		// a client that cannot use the answer SHOULD disconnect
		// [L §Version Negotiation].
		if !mcp.Supported(info.ProtocolVersion) {
			return nil, fmt.Errorf("initializing: upstream answered protocol version %q, which the gateway does not speak", upstream.ErrorText(info.ProtocolVersion))
		}
		a.session().Negotiated(info.ProtocolVersion)
		// After a successful initialize the client MUST send
		// notifications/initialized [L §Initialization].
		body := appendMessage(nil, 0, mcp.NotificationInitialized, nil)
		if err := a.session().Send(ictx, Outgoing{Body: body, Kind: jsonrpc.KindNotification, Method: mcp.NotificationInitialized}); err != nil {
			return nil, fmt.Errorf("initializing: sending initialized: %w", err)
		}
		return &info, nil
	}
}

// initOnce sends one initialize request. It is never cancelled with a
// notification [C §Behavior Requirements 2]: on timeout the session is
// dropped instead.
func (c *Conn) initOnce(ctx context.Context, a *attempt, version string) (*jsonrpc.Message, error) {
	params, err := json.Marshal(struct {
		ProtocolVersion string          `json:"protocolVersion"`
		Capabilities    json.RawMessage `json:"capabilities"`
		ClientInfo      json.RawMessage `json:"clientInfo"`
	}{version, c.opts.Capabilities, c.opts.ClientInfo})
	if err != nil {
		return nil, fmt.Errorf("encoding params: %w", err)
	}
	id := c.nextID.Add(1)
	ch, ok := a.register(id)
	if !ok {
		return nil, errors.New("the session ended")
	}
	defer a.unregister(id, ch, false) // rare: pooled only if never delivered
	body := appendMessage(nil, id, mcp.MethodInitialize, params)
	if err := a.session().Send(ctx, Outgoing{Body: body, Kind: jsonrpc.KindRequest, ID: id, Method: mcp.MethodInitialize}); err != nil {
		return nil, err
	}
	select {
	case m := <-ch:
		if m == nil {
			return nil, errors.New("the session ended")
		}
		return m, nil
	case <-a.session().Done():
		return nil, a.session().Err()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fallbackVersion reads the revisions a refusing server lists in its
// error's data ({"supported": [...]}, as the 2026 error -32022 and several
// SDKs give them) and returns the newest the gateway speaks other than
// asked, or "".
func fallbackVersion(e *jsonrpc.Error, asked string) string {
	var data struct {
		Supported []string `json:"supported"`
	}
	if len(e.Data) == 0 || json.Unmarshal(e.Data, &data) != nil {
		return ""
	}
	for _, v := range mcp.SessionVersions { // newest first
		if v != asked && slices.Contains(data.Supported, v) {
			return v
		}
	}
	return ""
}
