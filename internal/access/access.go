// Package access enforces what a principal's role lets it do over MCP. A
// readonly principal (principal.RoleReadOnly) may list and read — every
// method except tools/call — and may call only tools whose annotations say
// readOnlyHint: true. Admins and users may do everything the relay offers.
//
// Enforcer wraps the MCP core (the relay) that the transports call, so the
// rule holds on every transport: Streamable HTTP, legacy SSE and stateless
// requests alike.
//
// Tool annotations are claims by the upstream ("hints", MCP 2025-11-25
// server/tools §Tool Annotations: clients MUST consider them untrusted
// unless they come from trusted servers). The gateway trusts the upstreams
// its operator configured; grant the readonly role only over upstreams whose
// annotations you trust.
package access

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/metrics"
	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/relay"
)

// CodeForbidden is the JSON-RPC error code of a request the principal's
// role does not allow (implementation-defined server error range, next to
// jsonrpc.CodeUpstreamUnavailable and CodeResourceNotFound).
const CodeForbidden = -32003

// Core is the MCP core the transports call; it has the method set of
// streamable.Core, so an Enforcer can stand in for the relay there (and in
// any transport that uses the same interface).
type Core interface {
	Initialize(ctx context.Context, p principal.Principal, params json.RawMessage) (*relay.InitializeResult, *jsonrpc.Error)
	Attach(c *relay.Client)
	Detach(sessionID string)
	HandleRequest(ctx context.Context, c *relay.Client, msg *jsonrpc.Message, out relay.Stream) *jsonrpc.Message
	HandleNotification(ctx context.Context, c *relay.Client, msg *jsonrpc.Message)
	HandleResponse(ctx context.Context, c *relay.Client, msg *jsonrpc.Message)
}

// ToolIndex tells whether an exposed (namespaced) tool is annotated
// readOnlyHint: true. found is false for a tool the gateway does not
// offer. The relay should implement it from its catalog; until it does,
// Enforcer reads the tools/list result the core answers.
type ToolIndex interface {
	ToolReadOnly(ctx context.Context, c *relay.Client, name string) (readOnly, found bool)
}

// Options configures an Enforcer. Nil options mean all defaults.
type Options struct {
	// Tools answers readOnlyHint lookups. Nil means the core itself when
	// it implements ToolIndex, else an index built from the core's
	// tools/list answer (re-read when that answer changes).
	Tools ToolIndex
	// Denied counts requests refused for the principal's role. Nil counts
	// nothing.
	Denied *metrics.Counter
	// Logger receives one line per refused request. Nil discards.
	Logger *slog.Logger
}

// Enforcer is a Core that applies role rules before passing requests on
// to the core it wraps. Everything but HandleRequest passes through.
type Enforcer struct {
	Core
	tools  ToolIndex    // nil: use listed
	listed *listedIndex // fallback, built from tools/list
	denied *metrics.Counter
	log    *slog.Logger
}

// Enforce returns core wrapped in an Enforcer.
func Enforce(core Core, opts *Options) *Enforcer {
	var o Options
	if opts != nil {
		o = *opts
	}
	e := &Enforcer{Core: core, tools: o.Tools, denied: o.Denied, log: o.Logger}
	if e.tools == nil {
		if ti, ok := core.(ToolIndex); ok {
			e.tools = ti
		} else {
			e.listed = &listedIndex{core: core}
		}
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	return e
}

// HandleRequest implements Core. For a readonly principal (the principal of
// the request, principal.FromContext(ctx), so a token's role takes effect
// at once) it refuses tools/call of a tool not annotated readOnlyHint with
// CodeForbidden, and of a tool the gateway does not offer with
// CodeInvalidParams, as the relay would ([server/tools §Error Handling]:
// unknown tools are protocol errors).
func (e *Enforcer) HandleRequest(ctx context.Context, c *relay.Client, msg *jsonrpc.Message, out relay.Stream) *jsonrpc.Message {
	if msg.Method != mcp.MethodToolsCall {
		return e.Core.HandleRequest(ctx, c, msg, out)
	}
	p := principal.FromContext(ctx)
	if !p.ReadOnly() {
		return e.Core.HandleRequest(ctx, c, msg, out)
	}
	var params struct {
		Name string `json:"name"`
	}
	if len(msg.Params) == 0 || json.Unmarshal(msg.Params, &params) != nil || params.Name == "" {
		return e.Core.HandleRequest(ctx, c, msg, out) // the relay answers -32602
	}
	var readOnly, found bool
	if e.tools != nil {
		readOnly, found = e.tools.ToolReadOnly(ctx, c, params.Name)
	} else {
		readOnly, found = e.listed.lookup(ctx, c, params.Name)
	}
	switch {
	case !found:
		return jsonrpc.NewErrorResponse(msg.ID, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Unknown tool: "+truncate(params.Name, 128)))
	case readOnly:
		return e.Core.HandleRequest(ctx, c, msg, out)
	}
	e.denied.Inc()
	e.log.InfoContext(ctx, "request refused: role", "role", p.Role, "principal", p.Name,
		"method", msg.Method, "tool", truncate(params.Name, 128))
	return jsonrpc.NewErrorResponse(msg.ID, jsonrpc.NewError(CodeForbidden,
		"Forbidden: the readonly role may call only tools annotated readOnlyHint: "+truncate(params.Name, 128)+" is not"))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// listedIndex is a ToolIndex read from the core's own tools/list answer,
// for cores that do not implement ToolIndex. The relay answers tools/list
// from a pre-encoded catalog, so an unchanged catalog is recognised by the
// identity of the bytes (or, failing that, their equality) and parsed once.
type listedIndex struct {
	core Core

	mu    sync.Mutex // guards raw and tools
	raw   json.RawMessage
	tools map[string]bool // exposed name → readOnlyHint
}

// listID is the JSON-RPC id of the Enforcer's own tools/list requests.
var listID = json.RawMessage(`"mcpgate-access-tools-list"`)

// errNoStream refuses any message sent on behalf of the internal
// tools/list request.
var errNoStream = errors.New("no stream for an internal request")

type noStream struct{}

func (noStream) Send(*jsonrpc.Message) error { return errNoStream }

func (l *listedIndex) lookup(ctx context.Context, c *relay.Client, name string) (readOnly, found bool) {
	resp := l.core.HandleRequest(ctx, c, &jsonrpc.Message{JSONRPC: jsonrpc.Version, ID: listID, Method: mcp.MethodToolsList}, noStream{})
	if resp == nil || resp.Error != nil || len(resp.Result) == 0 {
		return false, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !sameBytes(l.raw, resp.Result) {
		tools, err := parseTools(resp.Result)
		if err != nil {
			return false, false
		}
		l.raw, l.tools = resp.Result, tools
	}
	readOnly, found = l.tools[name]
	return readOnly, found
}

func sameBytes(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 || &a[0] == &b[0] {
		return true
	}
	return bytes.Equal(a, b)
}

// parseTools reads name and annotations.readOnlyHint of every listed tool
// ([server/tools §Listing Tools]; ToolAnnotations.readOnlyHint defaults to
// false).
func parseTools(result json.RawMessage) (map[string]bool, error) {
	var list struct {
		Tools []struct {
			Name        string `json:"name"`
			Annotations *struct {
				ReadOnlyHint bool `json:"readOnlyHint"`
			} `json:"annotations"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(result, &list); err != nil {
		return nil, err
	}
	tools := make(map[string]bool, len(list.Tools))
	for _, t := range list.Tools {
		tools[t.Name] = t.Annotations != nil && t.Annotations.ReadOnlyHint
	}
	return tools, nil
}
