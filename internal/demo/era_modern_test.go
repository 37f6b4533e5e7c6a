package demo

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// modernParams builds params with the per-request _meta of 2026-07-28.
func modernMeta(caps any, extra map[string]any) map[string]any {
	meta := map[string]any{mcp.MetaProtocolVersion: mcp.Version20260728, mcp.MetaClientCapabilities: caps}
	for k, v := range extra {
		meta[k] = v
	}
	return meta
}

func withMeta(params map[string]any, meta map[string]any) map[string]any {
	params["_meta"] = meta
	return params
}

// TestModernEraRules: the wire rules of the modern era, one request each.
func TestModernEraRules(t *testing.T) {
	c := startServer(t, &Options{Era: EraModern})
	all := modernMeta(allCaps, nil)
	tests := []struct {
		name     string
		method   string
		params   map[string]any
		wantCode int
		wantIn   []string // substrings of the result
	}{
		{"discover", "server/discover", withMeta(map[string]any{}, all), 0,
			[]string{`"supportedVersions":["2026-07-28"]`, `"resultType":"complete"`, `"io.modelcontextprotocol/serverInfo":{"name":"mcpgate-demo"`}},
		{"initialize removed", "initialize", withMeta(map[string]any{}, all), jsonrpc.CodeMethodNotFound, nil},
		{"ping removed", "ping", withMeta(map[string]any{}, all), jsonrpc.CodeMethodNotFound, nil},
		{"setLevel removed", "logging/setLevel", withMeta(map[string]any{"level": "info"}, all), jsonrpc.CodeMethodNotFound, nil},
		{"no _meta", "tools/list", map[string]any{}, jsonrpc.CodeInvalidParams, nil},
		{"no capabilities", "tools/list", withMeta(map[string]any{}, map[string]any{mcp.MetaProtocolVersion: "2026-07-28"}), jsonrpc.CodeInvalidParams, nil},
		{"session version", "tools/list", withMeta(map[string]any{}, map[string]any{mcp.MetaProtocolVersion: "2025-11-25", mcp.MetaClientCapabilities: map[string]any{}}), mcp.CodeUnsupportedProtocolVersion, nil},
		{"list cacheable", "tools/list", withMeta(map[string]any{}, all), 0, []string{`"resultType":"complete","ttlMs":5000,"cacheScope":"public"`, `"name":"test_simple_text"`}},
		{"read cacheable", "resources/read", withMeta(map[string]any{"uri": "test://static-text"}, all), 0, []string{`"ttlMs":0,"cacheScope":"private"`}},
		{"unknown resource -32602", "resources/read", withMeta(map[string]any{"uri": "test://nope"}, all), jsonrpc.CodeInvalidParams, nil},
		{"tool result complete", "tools/call", withMeta(map[string]any{"name": "test_simple_text"}, all), 0, []string{`"resultType":"complete"`}},
		{"undeclared capability -32021", "tools/call", withMeta(map[string]any{"name": "test_sampling", "arguments": map[string]any{"prompt": "x"}}, modernMeta(map[string]any{}, nil)), mcp.CodeMissingClientCapability, nil},
		{"tampered state", "tools/call", withMeta(map[string]any{"name": "test_sampling", "arguments": map[string]any{"prompt": "x"}, "requestState": "e30.AAAA"}, all), jsonrpc.CodeInvalidParams, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, notes := c.call(tt.method, tt.params, nil)
			if len(notes) > 0 {
				t.Errorf("notifications %v", notes)
			}
			if tt.wantCode != 0 {
				if resp.Error == nil || resp.Error.Code != tt.wantCode {
					t.Fatalf("got %s %v, want error %d", resp.Result, resp.Error, tt.wantCode)
				}
				return
			}
			if resp.Error != nil {
				t.Fatalf("error %d %s", resp.Error.Code, resp.Error.Message)
			}
			for _, want := range tt.wantIn {
				if !strings.Contains(string(resp.Result), want) {
					t.Errorf("result %s lacks %s", resp.Result, want)
				}
			}
		})
	}
}

// TestModernMRTR: sampling through InputRequiredResult, answered in a
// second round with inputResponses and requestState; logs only with a
// per-request logLevel.
func TestModernMRTR(t *testing.T) {
	c := startServer(t, &Options{Era: EraModern})
	meta := modernMeta(allCaps, nil)
	resp, _ := c.call("tools/call", withMeta(map[string]any{"name": "test_sampling", "arguments": map[string]any{"prompt": "Hi"}}, meta), nil)
	var ir struct {
		ResultType    string `json:"resultType"`
		InputRequests map[string]struct {
			Method string `json:"method"`
		} `json:"inputRequests"`
		RequestState string `json:"requestState"`
	}
	if resp.Error != nil || json.Unmarshal(resp.Result, &ir) != nil || ir.ResultType != "input_required" || ir.InputRequests["r1"].Method != mcp.MethodSamplingCreateMessage {
		t.Fatalf("round 1: %s %v", resp.Result, resp.Error)
	}
	answer := map[string]any{"role": "assistant", "model": "m", "content": map[string]any{"type": "text", "text": "hello from the model"}}
	resp, _ = c.call("tools/call", withMeta(map[string]any{"name": "test_sampling", "arguments": map[string]any{"prompt": "Hi"},
		"inputResponses": map[string]any{"r1": answer}, "requestState": ir.RequestState}, meta), nil)
	if resp.Error != nil || !strings.Contains(string(resp.Result), "LLM response: hello from the model") || !strings.Contains(string(resp.Result), `"resultType":"complete"`) {
		t.Fatalf("round 2: %s %v", resp.Result, resp.Error)
	}

	for _, tt := range []struct {
		name  string
		meta  map[string]any
		wantN int
	}{
		{"no logLevel, no logs", meta, 0},
		{"logLevel info", modernMeta(allCaps, map[string]any{mcp.MetaLogLevel: "info"}), 3},
		{"logLevel error", modernMeta(allCaps, map[string]any{mcp.MetaLogLevel: "error"}), 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, notes := c.call("tools/call", withMeta(map[string]any{"name": "test_tool_with_logging"}, tt.meta), nil)
			if resp.Error != nil || len(notes) != tt.wantN {
				t.Errorf("%d notifications (%v), want %d; error %v", len(notes), notes, tt.wantN, resp.Error)
			}
		})
	}
}

// TestModernListen: change notifications go only to the listen that asked,
// tagged with its id; cancelling the listen ends it without a response.
func TestModernListen(t *testing.T) {
	c := startServer(t, &Options{Era: EraModern})
	meta := modernMeta(allCaps, nil)
	listenID := c.sendRequest("subscriptions/listen", withMeta(map[string]any{"notifications": map[string]any{"toolsListChanged": true}}, meta))
	ack := c.next()
	if ack.Method != mcp.NotificationSubscriptionsAcknowledged || !strings.Contains(string(ack.Params), `"io.modelcontextprotocol/subscriptionId":`+string(listenID)) {
		t.Fatalf("ack %s %s", ack.Method, ack.Params)
	}
	resp, notes := c.call("tools/call", withMeta(map[string]any{"name": "test_trigger_prompt_change"}, meta), nil)
	if resp.Error != nil || len(notes) != 0 {
		t.Fatalf("prompt change: %v, notes %v (the listen did not ask for prompts)", resp.Error, notes)
	}
	resp, notes = c.call("tools/call", withMeta(map[string]any{"name": "test_trigger_tool_change"}, meta), nil)
	if resp.Error != nil || len(notes) != 1 || notes[0].Method != mcp.NotificationToolsListChanged ||
		!strings.Contains(string(notes[0].Params), `"io.modelcontextprotocol/subscriptionId":`+string(listenID)) {
		t.Fatalf("tool change: %v, notes %v", resp.Error, notes)
	}
	c.send(jsonrpc.NewNotification(mcp.NotificationCancelled, jsonrpc.MustRaw(map[string]any{"requestId": listenID})))
	// The next response is the discover's: the listen got none.
	resp, _ = c.call("server/discover", withMeta(map[string]any{}, meta), nil)
	if resp.Error != nil {
		t.Fatalf("discover after cancel: %v", resp.Error)
	}
}

// TestModernPromptInput: a prompt that asks for input answers with an
// InputRequiredResult under the key the fixture names, then completes.
func TestModernPromptInput(t *testing.T) {
	c := startServer(t, &Options{Era: EraModern})
	meta := modernMeta(allCaps, nil)
	resp, _ := c.call("prompts/get", withMeta(map[string]any{"name": "test_input_required_result_prompt"}, meta), nil)
	if resp.Error != nil || !strings.Contains(string(resp.Result), `"resultType":"input_required"`) || !strings.Contains(string(resp.Result), `"user_context"`) {
		t.Fatalf("round 1: %s %v", resp.Result, resp.Error)
	}
	var ir struct {
		RequestState string `json:"requestState"`
	}
	_ = json.Unmarshal(resp.Result, &ir)
	answer := map[string]any{"action": "accept", "content": map[string]any{"context": "testing"}}
	resp, _ = c.call("prompts/get", withMeta(map[string]any{"name": "test_input_required_result_prompt",
		"inputResponses": map[string]any{"user_context": answer}, "requestState": ir.RequestState}, meta), nil)
	if resp.Error != nil || !strings.Contains(string(resp.Result), `"resultType":"complete"`) || !strings.Contains(string(resp.Result), `"messages"`) {
		t.Fatalf("round 2: %s %v", resp.Result, resp.Error)
	}
}
