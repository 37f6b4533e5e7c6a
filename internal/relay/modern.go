package relay

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// Modern (2026-07-28) upstreams behind the gateway (docs/protocol-eras.md
// §4.1–§4.3 B). [B26] is docs/specification/2026-07-28/basic/index.mdx,
// [MRTR] …/basic/patterns/mrtr.mdx.
//
// Every request to a modern upstream carries the per-request protocol
// fields in _meta [B26 §_meta]. A 2026 client's request already has them
// and passes through as bytes; a session client's gets a fragment encoded
// once per session (sessionMetas) from what it declared at initialize and
// the level it set with logging/setLevel; the gateway's own requests get
// clientCapabilities {} from the upstream connection itself
// (upstream.WithMeta in the stdio Conn).

// isModern reports whether conn speaks the stateless era.
func isModern(conn upstream.Conn) bool {
	info := conn.Info()
	return info != nil && info.Era == upstream.EraModern
}

// callUpstream is conn.Call for a forwarded request, with the era of the
// upstream taken care of: to a modern upstream a session client's request
// carries its _meta, and an InputRequiredResult is driven by the gateway
// (modern_mrtr.go); a 2026 client's passes through unchanged, results
// included (resultType, input_required and requestState are its own).
func (r *Relay) callUpstream(ctx context.Context, cl *call, conn upstream.Conn, method string, params json.RawMessage) (*jsonrpc.Message, error) {
	if !isModern(conn) {
		return conn.Call(ctx, method, params)
	}
	ctx = r.withParamHeaders(ctx, cl, method, params) // modern_http.go: Mcp-Param-* for HTTP upstreams
	c := cl.client
	if c.Stateless {
		// The only modern revision is 2026-07-28, which the upstream
		// answered discover with; a later one would be rewritten here to
		// the upstream's Info.ProtocolVersion.
		resp, err := conn.Call(ctx, method, params)
		return r.wrapTaskResult(cl, resp, err) // tasks.go: upstream task ids → gateway task tokens
	}
	params = upstream.WithMeta(params, r.sessionMeta(c, conn.Info().ProtocolVersion))
	resp, err := conn.Call(ctx, method, params)
	if err == nil && tasksRequired(resp) { // tasks_client.go: declared only when M requires it
		params, resp, err = r.callDeclaringTasks(ctx, conn, method, params)
	}
	if err != nil || resp.Error != nil {
		return resp, err
	}
	if resp, err = r.driveInputRequired(ctx, cl, conn, method, params, resp); err != nil || resp.Error != nil {
		return resp, err
	}
	return r.driveTask(ctx, cl, conn, params, resp) // tasks_client.go
}

// sessionMetas caches each session's _meta fragment for modern upstreams.
// Entries go at Detach; the cache is also bounded (maxSessionMetas,
// emptied when full), since a session served here need not have been
// attached here.
type sessionMetas struct {
	mu sync.Mutex // guards m
	m  map[string]*sessionMeta
}

// maxSessionMetas bounds sessionMetas.
const maxSessionMetas = 1 << 14

type sessionMeta struct {
	version, level string
	fields         []byte
}

// sessionMeta returns the _meta fields of session c towards an upstream of
// version: its capabilities and clientInfo as declared at initialize, and
// the log level it set (none before logging/setLevel: a modern upstream
// then sends no logs [LOG §Per-request log level]).
func (r *Relay) sessionMeta(c *Client, version string) []byte {
	level := r.sessionLogLevel(c.SessionID)
	r.metas.mu.Lock()
	defer r.metas.mu.Unlock()
	if m := r.metas.m[c.SessionID]; m != nil && m.version == version && m.level == level {
		return m.fields
	}
	m := &sessionMeta{version: version, level: level,
		fields: upstream.MetaFields(version, c.Capabilities.Raw, c.ClientInfo, level)}
	if r.metas.m == nil || len(r.metas.m) >= maxSessionMetas {
		r.metas.m = map[string]*sessionMeta{}
	}
	r.metas.m[c.SessionID] = m
	return m.fields
}

// forget drops a session's fragment when it detaches.
func (s *sessionMetas) forget(sessionID string) {
	s.mu.Lock()
	delete(s.m, sessionID)
	s.mu.Unlock()
}

// levelNames are the log levels by their order in logLevelOrder.
var levelNames = [...]string{"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"}

// sessionLogLevel is the level the session set with logging/setLevel, or "".
func (r *Relay) sessionLogLevel(sessionID string) string {
	r.mu.Lock()
	lvl, ok := r.logLevels[sessionID]
	r.mu.Unlock()
	if !ok || lvl < 0 || lvl >= len(levelNames) {
		return ""
	}
	return levelNames[lvl]
}
