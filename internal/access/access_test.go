package access

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/metrics"
	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/relay"
)

// fakeCore lists tools and answers every other request with {"called": method}.
type fakeCore struct {
	mu     sync.Mutex
	list   json.RawMessage
	lists  int // tools/list requests answered
	called []string
}

func (f *fakeCore) Initialize(context.Context, principal.Principal, json.RawMessage) (*relay.InitializeResult, *jsonrpc.Error) {
	return nil, nil
}
func (f *fakeCore) Attach(*relay.Client)                                                {}
func (f *fakeCore) Detach(string)                                                       {}
func (f *fakeCore) HandleNotification(context.Context, *relay.Client, *jsonrpc.Message) {}
func (f *fakeCore) HandleResponse(context.Context, *relay.Client, *jsonrpc.Message)     {}
func (f *fakeCore) setList(s string)                                                    { f.mu.Lock(); f.list = json.RawMessage(s); f.mu.Unlock() }
func (f *fakeCore) HandleRequest(_ context.Context, _ *relay.Client, m *jsonrpc.Message, _ relay.Stream) *jsonrpc.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m.Method == mcp.MethodToolsList {
		f.lists++
		return jsonrpc.NewResponse(m.ID, f.list)
	}
	f.called = append(f.called, m.Method)
	return jsonrpc.NewResponse(m.ID, jsonrpc.MustRaw(map[string]string{"called": m.Method}))
}

// indexedCore also implements ToolIndex.
type indexedCore struct {
	fakeCore
	lookups int
}

func (c *indexedCore) ToolReadOnly(_ context.Context, _ *relay.Client, name string) (bool, bool) {
	c.lookups++
	switch name {
	case "fs__read":
		return true, true
	case "fs__write", "fs__plain":
		return false, true
	}
	return false, false
}

const tools = `{"tools":[
 {"name":"fs__read","annotations":{"readOnlyHint":true,"idempotentHint":true}},
 {"name":"fs__write","annotations":{"readOnlyHint":false,"destructiveHint":true}},
 {"name":"fs__plain"}]}`

func call(t *testing.T, e *Enforcer, role, method, params string) *jsonrpc.Message {
	t.Helper()
	ctx := principal.NewContext(context.Background(), principal.Principal{Issuer: "static", Subject: "u", Name: "u", Role: role})
	m := &jsonrpc.Message{JSONRPC: "2.0", ID: json.RawMessage(`7`), Method: method}
	if params != "" {
		m.Params = json.RawMessage(params)
	}
	resp := e.HandleRequest(ctx, &relay.Client{SessionID: "s"}, m, nil)
	if string(resp.ID) != "7" {
		t.Fatalf("response id %s, want 7", resp.ID)
	}
	return resp
}

func TestEnforcer(t *testing.T) {
	tests := []struct {
		name, role, method, params string
		wantCode                   int // 0: passed to the core
	}{
		{"admin writes", principal.RoleAdmin, "tools/call", `{"name":"fs__write"}`, 0},
		{"user writes", principal.RoleUser, "tools/call", `{"name":"fs__write"}`, 0},
		{"default role writes", "", "tools/call", `{"name":"fs__plain"}`, 0},
		{"readonly reads", principal.RoleReadOnly, "tools/call", `{"name":"fs__read","arguments":{}}`, 0},
		{"readonly writes", principal.RoleReadOnly, "tools/call", `{"name":"fs__write"}`, CodeForbidden},
		{"readonly, no annotations", principal.RoleReadOnly, "tools/call", `{"name":"fs__plain"}`, CodeForbidden},
		{"readonly, unknown tool", principal.RoleReadOnly, "tools/call", `{"name":"nope"}`, jsonrpc.CodeInvalidParams},
		{"readonly, bad params go to the core", principal.RoleReadOnly, "tools/call", `[1]`, 0},
		{"readonly lists", principal.RoleReadOnly, "tools/list", ``, 0},
		{"readonly reads a resource", principal.RoleReadOnly, "resources/read", `{"uri":"file:///x"}`, 0},
		{"readonly gets a prompt", principal.RoleReadOnly, "prompts/get", `{"name":"p"}`, 0},
	}
	for _, variant := range []string{"listed", "indexed"} {
		t.Run(variant, func(t *testing.T) {
			var core Core
			var fc *fakeCore
			ic := &indexedCore{}
			if variant == "listed" {
				fc = &fakeCore{}
				core = fc
			} else {
				fc = &ic.fakeCore
				core = ic
			}
			fc.setList(tools)
			denied := metrics.NewRegistry().Counter("denied", "")
			e := Enforce(core, &Options{Denied: denied})
			wantDenied := 0
			for _, tt := range tests {
				resp := call(t, e, tt.role, tt.method, tt.params)
				switch {
				case tt.wantCode == 0 && resp.Error != nil:
					t.Errorf("%s: refused: %+v", tt.name, resp.Error)
				case tt.wantCode != 0 && (resp.Error == nil || resp.Error.Code != tt.wantCode):
					t.Errorf("%s: got %s %+v, want error %d", tt.name, resp.Result, resp.Error, tt.wantCode)
				}
				if tt.wantCode == CodeForbidden {
					wantDenied++
				}
			}
			if denied.Value() != uint64(wantDenied) {
				t.Errorf("denied counter: %d, want %d", denied.Value(), wantDenied)
			}
			if variant == "indexed" && (ic.lookups == 0 || fc.lists != 1) {
				t.Errorf("the core's ToolIndex was not used: %d lookups, %d lists", ic.lookups, fc.lists)
			}
		})
	}
}

func TestListedIndexFollowsChanges(t *testing.T) {
	fc := &fakeCore{}
	fc.setList(tools)
	e := Enforce(fc, nil)
	if resp := call(t, e, principal.RoleReadOnly, "tools/call", `{"name":"fs__read"}`); resp.Error != nil {
		t.Fatalf("before the change: %+v", resp.Error)
	}
	// The upstream drops the annotation (list_changed, catalog rebuilt).
	fc.setList(`{"tools":[{"name":"fs__read","annotations":{"readOnlyHint":false}}]}`)
	if resp := call(t, e, principal.RoleReadOnly, "tools/call", `{"name":"fs__read"}`); resp.Error == nil || resp.Error.Code != CodeForbidden {
		t.Fatalf("after the change: got %s %+v, want forbidden", resp.Result, resp.Error)
	}
}
