package demo

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// answerAsks answers the MRTR fixtures' server→client requests as a client
// would and records each request's method and key hint.
type answerAsks struct {
	mu   sync.Mutex
	seen []string // "key method"
}

func (a *answerAsks) answer(req *jsonrpc.Message) any {
	var p struct {
		Meta map[string]string `json:"_meta"`
		Mode string            `json:"mode"`
	}
	_ = json.Unmarshal(req.Params, &p)
	a.mu.Lock()
	a.seen = append(a.seen, p.Meta[mcp.MetaInputKey]+" "+req.Method)
	a.mu.Unlock()
	switch req.Method {
	case mcp.MethodElicitationCreate:
		return map[string]any{"action": "accept", "content": map[string]any{"name": "Alice", "color": "blue", "ok": true, "context": "ctx"}}
	case mcp.MethodSamplingCreateMessage:
		return map[string]any{"role": "assistant", "content": map[string]string{"type": "text", "text": "Paris"}, "model": "m"}
	case mcp.MethodRootsList:
		return map[string]any{"roots": []map[string]string{{"uri": "file:///root"}}}
	}
	return &jsonrpc.Error{Code: jsonrpc.CodeMethodNotFound, Message: "no"}
}

func TestMRTRFixtures(t *testing.T) {
	tests := []struct {
		tool     string
		meta     map[string]any // request _meta (the 2026 client's, passed through by the gateway)
		wantAsks []string       // "key method", sorted
		wantText string
	}{
		{tool: "test_input_required_result_elicitation", wantAsks: []string{"user_name elicitation/create"}, wantText: "Hello, Alice!"},
		{tool: "test_input_required_result_sampling", wantAsks: []string{"capital_question sampling/createMessage"},
			wantText: "The model answered: Paris"},
		{tool: "test_input_required_result_list_roots", wantAsks: []string{"client_roots roots/list"}, wantText: "Client roots: file:///root"},
		{tool: "test_input_required_result_request_state", wantAsks: []string{"confirm elicitation/create"}, wantText: "state-ok"},
		{tool: "test_input_required_result_multiple_inputs",
			wantAsks: []string{"client_roots roots/list", "greeting sampling/createMessage", "user_name elicitation/create"},
			wantText: "Name: Alice; greeting: Paris; roots: file:///root"},
		{tool: "test_input_required_result_multi_round", wantAsks: []string{"step1 elicitation/create", "step2 elicitation/create"},
			wantText: "Alice's favorite color is blue"},
		{tool: "test_input_required_result_tampered_state", wantAsks: []string{"confirm elicitation/create"}, wantText: "confirmation received"},
		{tool: "test_input_required_result_capabilities",
			meta:     map[string]any{mcp.MetaClientCapabilities: map[string]any{"sampling": map[string]any{}}},
			wantAsks: []string{"capability_sampling sampling/createMessage"}, wantText: "Asked for: sampling/createMessage"},
		{tool: "test_input_required_result_capabilities",
			wantAsks: []string{"capability_elicitation elicitation/create", "capability_roots roots/list", "capability_sampling sampling/createMessage"},
			wantText: "Asked for:"},
	}
	c := started(t, nil)
	for _, tt := range tests {
		t.Run(tt.tool, func(t *testing.T) {
			c.t = t
			var asks answerAsks
			params := map[string]any{"name": tt.tool, "arguments": map[string]any{}}
			if tt.meta != nil {
				params["_meta"] = tt.meta
			}
			resp, _ := c.call("tools/call", params, asks.answer)
			var res toolResult
			if resp.Error != nil || json.Unmarshal(resp.Result, &res) != nil || res.IsError || len(res.Content) != 1 {
				t.Fatalf("result %s", jsonrpc.Encode(resp))
			}
			if !strings.Contains(res.Content[0].Text, tt.wantText) {
				t.Errorf("text %q, want it to contain %q", res.Content[0].Text, tt.wantText)
			}
			slices.Sort(asks.seen)
			if !slices.Equal(asks.seen, tt.wantAsks) {
				t.Errorf("asks %q, want %q", asks.seen, tt.wantAsks)
			}
		})
	}
	t.Run("prompt", func(t *testing.T) {
		c.t = t
		var asks answerAsks
		resp, _ := c.call("prompts/get", map[string]any{"name": "test_input_required_result_prompt"}, asks.answer)
		if resp.Error != nil || !strings.Contains(string(resp.Result), `"Use this context: ctx"`) {
			t.Errorf("prompts/get: %s", jsonrpc.Encode(resp))
		}
		if want := []string{"user_context elicitation/create"}; !slices.Equal(asks.seen, want) {
			t.Errorf("asks %q, want %q", asks.seen, want)
		}
	})
	t.Run("refused ask is a tool error", func(t *testing.T) {
		c.t = t
		resp, _ := c.call("tools/call", map[string]any{"name": "test_input_required_result_elicitation"}, func(*jsonrpc.Message) any {
			return &jsonrpc.Error{Code: -32603, Message: "no client"}
		})
		if resp.Error != nil || !strings.Contains(string(resp.Result), `"isError":true`) {
			t.Errorf("result %s, want a tool error", jsonrpc.Encode(resp))
		}
	})
}
