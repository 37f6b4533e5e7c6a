package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// The era of a remote upstream (docs/protocol-eras.md §4.1). [SH26] is
// docs/specification/2026-07-28/basic/transports/streamable-http.mdx:
// "A client that supports both modern (per-request-metadata) MCP versions
// and a legacy version that requires an initialize handshake MAY detect
// which era the server implements by attempting a modern request first"
// [SH26 §Backward Compatibility]. The probe is server/discover; an answer
// in the modern era makes the upstream modern, anything a session-era
// server gives (a JSON-RPC error, a 4xx without a modern error) makes it
// session-era, and the same session is then initialized.

// ModernSession is implemented by the sessions of a transport that can
// speak the stateless era (Streamable HTTP; the 2024-11-05 HTTP+SSE
// transport cannot).
type ModernSession interface {
	// Modern switches the session to the stateless era of version: every
	// request a POST with MCP-Protocol-Version, Mcp-Method, Mcp-Name and
	// the Mcp-Param-* headers of its context (upstream.ParamHeadersFrom),
	// no session id, no GET stream, no resumption, no DELETE;
	// cancellation is closing the response stream. "" switches it back to
	// the session era (the probe found a session-era server).
	Modern(version string)
}

// HTTPStatusError is an unexpected HTTP status from the server, without
// its body (which may be large or hostile).
type HTTPStatusError struct{ Code int }

func (e *HTTPStatusError) Error() string { return fmt.Sprintf("upstream answered HTTP %d", e.Code) }

// IsClientError reports whether err carries a 4xx HTTPStatusError.
func IsClientError(err error) bool {
	var se *HTTPStatusError
	return errors.As(err, &se) && se.Code/100 == 4
}

// IsFallbackStatus reports whether an HTTP status to a POST of the
// Streamable HTTP transport means "not a Streamable HTTP endpoint" when
// its body carries no modern JSON-RPC error: 400, 404 or 405
// [SH26 §HTTP+SSE Transport (2024-11-05)].
func IsFallbackStatus(code int) bool {
	return code == http.StatusBadRequest || code == http.StatusNotFound || code == http.StatusMethodNotAllowed
}

// errNoAnswer: the upstream did not answer server/discover in time.
var errNoAnswer = errors.New("no answer to server/discover")

// open brings a new session into its era: discovery for a modern
// upstream, initialize for a session-era one, the probe deciding for
// ProtocolAuto. The probe's verdict (a DiscoverResult, or an answer that
// shows a session-era server) is remembered in Options.EraMemory, so that
// later sessions and the other connections of the upstream skip it;
// silence and transport failures are not.
func (c *Conn) open(ctx context.Context, a *attempt) (*upstream.Info, error) {
	ms, canModern := a.session().(ModernSession)
	proto := c.opts.Protocol
	if proto == "" || !canModern {
		proto = upstream.ProtocolLegacy
	}
	if learned := c.opts.EraMemory.Load(); proto == upstream.ProtocolAuto && learned != "" {
		proto = learned
	}
	switch proto {
	case upstream.ProtocolLegacy:
		return c.initialize(ctx, a)
	case upstream.ProtocolModern:
		info, err := c.discover(ctx, a, ms, c.opts.InitTimeout)
		if err != nil {
			return nil, fmt.Errorf("discovering (protocol: modern): %w", err)
		}
		return info, nil
	}
	info, err := c.discover(ctx, a, ms, c.opts.ProbeTimeout)
	switch {
	case err == nil:
		c.opts.EraMemory.Store(upstream.ProtocolModern)
		return info, nil
	case ctx.Err() != nil:
		return nil, err
	case errors.Is(err, upstream.ErrSessionEra), IsClientError(err):
		c.log.Info("upstream is session-era; initializing", "probe", err)
		c.opts.EraMemory.Store(upstream.ProtocolLegacy)
	case errors.Is(err, errNoAnswer):
		// Not remembered: a modern server slow to answer is probed again
		// at the next session. Configure protocol to skip the wait.
		c.log.Info("upstream did not answer server/discover; initializing", "timeout", c.opts.ProbeTimeout)
	default:
		return nil, fmt.Errorf("discovering: %w", err) // unreachable: a new session after the backoff
	}
	return c.initialize(ctx, a)
}

// discover sends server/discover on session a in the modern era, bounded
// by timeout. On success the session stays modern and a carries the _meta
// fields of the gateway's own requests; on failure it is switched back.
func (c *Conn) discover(ctx context.Context, a *attempt, ms ModernSession, timeout time.Duration) (*upstream.Info, error) {
	a.meta = upstream.MetaFields(mcp.ModernVersions[0], nil, c.opts.ClientInfo, "")
	ms.Modern(mcp.ModernVersions[0])
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	sent := mcp.ModernVersions[0]
	call := func(ctx context.Context, method string, params json.RawMessage) (*jsonrpc.Message, error) {
		// Discover retries a -32022 with a version the server named
		// [V26 §Protocol Version Negotiation] (V26:
		// docs/specification/2026-07-28/basic/versioning.mdx); the
		// MCP-Protocol-Version header must carry the version of the
		// request's _meta [SH26 §Standard Request Headers].
		if v := metaVersion(params); v != "" && v != sent {
			sent = v
			ms.Modern(v)
		}
		return c.call(ctx, a, method, params)
	}
	info, err := upstream.Discover(dctx, call, c.opts.ClientInfo)
	if err != nil {
		a.meta = nil
		ms.Modern("")
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w within %s", errNoAnswer, timeout)
		}
		return nil, err
	}
	a.meta = upstream.MetaFields(info.ProtocolVersion, nil, c.opts.ClientInfo, "")
	ms.Modern(info.ProtocolVersion)
	return info, nil
}

// params readies a forwarded request's params for session a's era: to a
// modern upstream every request carries the per-request protocol fields
// (a 2026 client's pass through as bytes; the gateway's own get
// clientCapabilities {}) [B26 §_meta]; a session-era upstream works in the
// version of its initialize, so a 2026 client's per-request version is
// dropped (upstream.DropProtocolVersion).
func (a *attempt) params(params json.RawMessage) json.RawMessage {
	if a.meta != nil {
		return upstream.WithMeta(params, a.meta)
	}
	return upstream.DropProtocolVersion(params)
}

func eraName(e upstream.Era) string {
	if e == upstream.EraModern {
		return "modern"
	}
	return "session"
}

// metaVersion reads params._meta's protocol version, or "".
func metaVersion(params json.RawMessage) string {
	meta, ok := jsonrpc.Lookup(params, "_meta")
	if !ok {
		return ""
	}
	raw, ok := jsonrpc.Lookup(meta, mcp.MetaProtocolVersion)
	if !ok {
		return ""
	}
	var v string
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	return v
}
