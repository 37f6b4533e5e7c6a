// Package mcpsessiontest is what the transports' tests share: a fake MCP
// core that stands in for the relay behind mcpsession.Hub (with methods
// that stream, block, ask the client, misbehave and wait for the test's
// signal), a hub served on loopback (NewEnv), goroutine-leak checks, JSON
// comparison and the harness that runs the TypeScript SDK's clients.
package mcpsessiontest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/mcpsession"
	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/relay"
)

// FakeCore stands in for the relay. Its methods:
//
//	echo        → {"echo": params}
//	progress    → params.n notifications/progress on the request's stream, then {"done": n}
//	ask         → a sampling/createMessage request to the client, waits for the
//	              client's POSTed response, then {"answer": <its result>}
//	gate        → a notifications/message {"gate": name} (unless params.quiet), waits for
//	              Release(name), then {"gate": name}
//	block       → waits until ctx ends, then a cancellation error
//	standalone  → notifications/tools/list_changed on the session's standalone stream, then {}
//	panic, nil  → misbehaves
//
// anything else → method not found.
type FakeCore struct {
	mu       sync.Mutex
	attached map[string]*relay.Client
	detached []string
	notes    []string                        // notification methods received
	pending  map[string]chan json.RawMessage // server→client request id → result
	gates    map[string]chan struct{}        // gate name → release
	arrivals map[string]chan struct{}        // gate name → closed when a call reaches it
	results  map[string]string               // gate name → "released" or "cancelled"
	asked    int

	// FailInit, if set, is the error Initialize answers with.
	FailInit *jsonrpc.Error
	// Advertise are the server capabilities of initialize results; nil
	// means none. Set it before serving.
	Advertise map[string]any
}

var _ mcpsession.Core = (*FakeCore)(nil)

// caps are the server capabilities the fake advertises.
func (c *FakeCore) caps() map[string]any {
	if c.Advertise != nil {
		return c.Advertise
	}
	return map[string]any{}
}

// FastResult is the constant result of method "fast", for benchmarks.
var FastResult = json.RawMessage(`{"content":[{"type":"text","text":"ok"}],"isError":false}`)

// NewFakeCore returns a FakeCore.
func NewFakeCore() *FakeCore {
	return &FakeCore{
		attached: make(map[string]*relay.Client),
		pending:  make(map[string]chan json.RawMessage),
		gates:    make(map[string]chan struct{}),
		arrivals: make(map[string]chan struct{}),
		results:  make(map[string]string),
	}
}

// Initialize implements mcpsession.Core: it negotiates like the relay.
func (c *FakeCore) Initialize(_ context.Context, _ principal.Principal, params json.RawMessage) (*relay.InitializeResult, *jsonrpc.Error) {
	if c.FailInit != nil {
		return nil, c.FailInit
	}
	var p struct {
		ProtocolVersion string          `json:"protocolVersion"`
		Capabilities    json.RawMessage `json:"capabilities"`
		ClientInfo      json.RawMessage `json:"clientInfo"`
	}
	if err := json.Unmarshal(params, &p); err != nil || p.ProtocolVersion == "" {
		return nil, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "protocolVersion is required")
	}
	v := mcp.Negotiate(p.ProtocolVersion)
	caps := mcpsession.CapabilitiesFromRaw(p.Capabilities, v)
	return &relay.InitializeResult{
		Result:          jsonrpc.MustRaw(map[string]any{"protocolVersion": v, "capabilities": c.caps(), "serverInfo": map[string]string{"name": "fake", "version": "1"}}),
		ProtocolVersion: v,
		Capabilities:    caps,
		ClientInfo:      p.ClientInfo,
	}, nil
}

// Attach implements mcpsession.Core.
func (c *FakeCore) Attach(cl *relay.Client) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.attached[cl.SessionID] = cl
}

// Detach implements mcpsession.Core.
func (c *FakeCore) Detach(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.attached, id)
	c.detached = append(c.detached, id)
}

// Client returns the attached client of a session, or nil.
func (c *FakeCore) Client(id string) *relay.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.attached[id]
}

// WasDetached reports whether a session was detached.
func (c *FakeCore) WasDetached(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, d := range c.detached {
		if d == id {
			return true
		}
	}
	return false
}

// gate returns the release channel of a gate, creating it.
func (c *FakeCore) gate(name string) chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.gates[name]
	if g == nil {
		g = make(chan struct{})
		c.gates[name] = g
	}
	return g
}

// Arrived returns a channel closed once a call reaches the gate.
func (c *FakeCore) Arrived(name string) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.arrivalLocked(name)
}

func (c *FakeCore) arrivalLocked(name string) chan struct{} {
	a := c.arrivals[name]
	if a == nil {
		a = make(chan struct{})
		c.arrivals[name] = a
	}
	return a
}

// arrive records that a call reached the gate.
func (c *FakeCore) arrive(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.arrivalLocked(name)
	select {
	case <-a:
	default:
		close(a)
	}
}

// Release lets the calls waiting at a gate return.
func (c *FakeCore) Release(name string) { close(c.gate(name)) }

// Result says how the call at a gate ended: "released" or "cancelled".
func (c *FakeCore) Result(name string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.results[name]
}

// HandleRequest implements mcpsession.Core.
func (c *FakeCore) HandleRequest(ctx context.Context, cl *relay.Client, msg *jsonrpc.Message, out relay.Stream) *jsonrpc.Message {
	ok := func(v any) *jsonrpc.Message { return jsonrpc.NewResponse(msg.ID, jsonrpc.MustRaw(v)) }
	switch msg.Method {
	case "fast":
		return jsonrpc.NewResponse(msg.ID, FastResult)
	case mcp.MethodPing:
		return ok(map[string]any{})
	case mcp.MethodToolsCall:
		return c.callTool(cl, msg, out)
	case "echo":
		params := msg.Params
		if params == nil {
			params = json.RawMessage("null")
		}
		return jsonrpc.NewResponse(msg.ID, jsonrpc.MustRaw(map[string]json.RawMessage{"echo": params}))
	case "progress":
		var p struct{ N int }
		json.Unmarshal(msg.Params, &p)
		for i := range p.N {
			if err := out.Send(jsonrpc.NewNotification(mcp.NotificationProgress, jsonrpc.MustRaw(map[string]int{"progress": i + 1}))); err != nil {
				return jsonrpc.NewErrorResponse(msg.ID, jsonrpc.NewError(jsonrpc.CodeInternalError, err.Error()))
			}
		}
		return ok(map[string]int{"done": p.N})
	case "ask":
		c.mu.Lock()
		c.asked++
		id := fmt.Sprintf("srv-%d", c.asked)
		ch := make(chan json.RawMessage, 1)
		c.pending[id] = ch
		c.mu.Unlock()
		if err := out.Send(jsonrpc.NewRequest(jsonrpc.MustRaw(id), mcp.MethodSamplingCreateMessage, json.RawMessage(`{"messages":[]}`))); err != nil {
			return jsonrpc.NewErrorResponse(msg.ID, jsonrpc.NewError(jsonrpc.CodeInternalError, err.Error()))
		}
		select {
		case res := <-ch:
			return ok(map[string]json.RawMessage{"answer": res})
		case <-ctx.Done():
			return jsonrpc.NewErrorResponse(msg.ID, jsonrpc.NewError(jsonrpc.CodeRequestCancelled, "cancelled"))
		}
	case "gate":
		var p struct {
			Gate  string
			Quiet bool // no notification first
		}
		json.Unmarshal(msg.Params, &p)
		g := c.gate(p.Gate)
		if !p.Quiet {
			if err := out.Send(jsonrpc.NewNotification(mcp.NotificationMessage, jsonrpc.MustRaw(map[string]string{"gate": p.Gate}))); err != nil {
				return jsonrpc.NewErrorResponse(msg.ID, jsonrpc.NewError(jsonrpc.CodeInternalError, err.Error()))
			}
		}
		c.arrive(p.Gate)
		outcome := "released"
		select {
		case <-g:
		case <-ctx.Done():
			outcome = "cancelled"
		}
		c.mu.Lock()
		c.results[p.Gate] = outcome
		c.mu.Unlock()
		if outcome == "cancelled" {
			return jsonrpc.NewErrorResponse(msg.ID, jsonrpc.NewError(jsonrpc.CodeRequestCancelled, "cancelled"))
		}
		return ok(map[string]string{"gate": p.Gate})
	case "block":
		<-ctx.Done()
		return jsonrpc.NewErrorResponse(msg.ID, jsonrpc.NewError(jsonrpc.CodeRequestCancelled, "cancelled"))
	case "standalone":
		if err := cl.Standalone.Send(jsonrpc.NewNotification(mcp.NotificationToolsListChanged, nil)); err != nil {
			return jsonrpc.NewErrorResponse(msg.ID, jsonrpc.NewError(jsonrpc.CodeInternalError, err.Error()))
		}
		return ok(map[string]any{})
	case "panic":
		panic("fake core panic")
	case "nil":
		return nil
	}
	return jsonrpc.NewErrorResponse(msg.ID, jsonrpc.NewError(jsonrpc.CodeMethodNotFound, "Method not found"))
}

// callTool serves tools/call for the SDK interop tests: "hello" answers at
// once, "slow" reports progress first (SSE), "notify" sends a list_changed
// on the standalone stream.
func (c *FakeCore) callTool(cl *relay.Client, msg *jsonrpc.Message, out relay.Stream) *jsonrpc.Message {
	var p struct {
		Name string
		Meta struct {
			ProgressToken json.RawMessage `json:"progressToken"`
		} `json:"_meta"`
	}
	json.Unmarshal(msg.Params, &p)
	text := func(s string) *jsonrpc.Message {
		return jsonrpc.NewResponse(msg.ID, jsonrpc.MustRaw(map[string]any{"content": []map[string]string{{"type": "text", "text": s}}}))
	}
	switch p.Name {
	case "hello":
		return text("hello")
	case "slow":
		if p.Meta.ProgressToken != nil {
			out.Send(jsonrpc.NewNotification(mcp.NotificationProgress, jsonrpc.MustRaw(map[string]any{"progressToken": p.Meta.ProgressToken, "progress": 1, "total": 2})))
		}
		return text("slow")
	case "test_reconnection": // conformance server-sse-polling: a call that streams
		out.Send(jsonrpc.NewNotification(mcp.NotificationMessage, jsonrpc.MustRaw(map[string]string{"level": "info", "data": "working"})))
		return text("reconnected")
	case "notify":
		cl.Standalone.Send(jsonrpc.NewNotification(mcp.NotificationToolsListChanged, nil))
		return text("notified")
	}
	return jsonrpc.NewErrorResponse(msg.ID, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "unknown tool"))
}

// HandleNotification implements mcpsession.Core: it records the method.
func (c *FakeCore) HandleNotification(_ context.Context, _ *relay.Client, msg *jsonrpc.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.notes = append(c.notes, msg.Method)
}

// Notifications returns the notification methods received, in order.
func (c *FakeCore) Notifications() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.notes...)
}

// HandleResponse implements mcpsession.Core: it answers a pending "ask".
func (c *FakeCore) HandleResponse(_ context.Context, _ *relay.Client, msg *jsonrpc.Message) {
	var id string
	json.Unmarshal(msg.ID, &id)
	c.mu.Lock()
	ch := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	if ch != nil {
		ch <- msg.Result
	}
}
