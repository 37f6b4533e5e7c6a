package demo

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
)

// Tests of server→client requests (sampling, elicitation), concurrency and
// cancellation.

func TestSampling(t *testing.T) {
	tests := []struct {
		name     string
		caps     any
		answer   any // result or *jsonrpc.Error; nil: no request expected
		wantText string
		wantErr  bool
	}{
		{"single content block", allCaps,
			map[string]any{"role": "assistant", "content": map[string]any{"type": "text", "text": "This is a test response from the client"},
				"model": "test-model", "stopReason": "endTurn"},
			"LLM response: This is a test response from the client", false},
		{"content array (sampling with tools)", allCaps,
			map[string]any{"role": "assistant", "content": []any{map[string]any{"type": "text", "text": "from an array"}}, "model": "m"},
			"LLM response: from an array", false},
		{"client error", allCaps, jsonrpc.NewError(-1, "User rejected sampling request"),
			"Sampling not supported or error: User rejected sampling request (code -1)", true},
		{"no sampling capability", map[string]any{}, nil,
			"Sampling not supported or error: the client did not declare the sampling capability", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := startServer(t, nil)
			c.initialize("2025-11-25", tt.caps)
			asked := false
			res, _ := c.toolCall("test_sampling", map[string]any{"prompt": "Test prompt for sampling"}, func(req *jsonrpc.Message) any {
				asked = true
				if req.Method != "sampling/createMessage" || !jsonrpc.ValidID(req.ID) {
					t.Errorf("server request %s id %s, want sampling/createMessage with a valid id", req.Method, req.ID)
				}
				want := `{"maxTokens":100,"messages":[{"content":{"text":"Test prompt for sampling","type":"text"},"role":"user"}]}`
				if diff := cmp.Diff(unmarshal(t, []byte(want)), unmarshal(t, req.Params)); diff != "" {
					t.Errorf("sampling params (-want +got):\n%s", diff)
				}
				return tt.answer
			})
			if asked != (tt.answer != nil) {
				t.Errorf("sampling requested = %v, want %v", asked, tt.answer != nil)
			}
			if res.Content[0].Text != tt.wantText || res.IsError != tt.wantErr {
				t.Errorf("result %q (isError %v), want %q (isError %v)", res.Content[0].Text, res.IsError, tt.wantText, tt.wantErr)
			}
		})
	}
}

func TestElicitation(t *testing.T) {
	tests := []struct {
		name, version, tool string
		args                any
		answer              any
		wantMessage         string
		wantSchema          json.RawMessage
		wantText            string
	}{
		{"test_elicitation", "2025-11-25", "test_elicitation", map[string]any{"message": "Please provide your information"},
			map[string]any{"action": "accept", "content": map[string]any{"username": "testuser", "email": "test@example.com"}},
			"Please provide your information", elicitationSchema,
			`User response: action=accept, content={"email":"test@example.com","username":"testuser"}`},
		{"test_elicitation in 2025-06-18 has no mode", "2025-06-18", "test_elicitation", map[string]any{"message": "m"},
			map[string]any{"action": "decline"}, "m", elicitationSchema, `User response: action=decline, content={}`},
		{"sep1034 defaults", "2025-11-25", "test_elicitation_sep1034_defaults", nil,
			map[string]any{"action": "accept", "content": map[string]any{"name": "Jane Smith", "age": 25}},
			"Please review and update the form fields with defaults", sep1034Schema,
			`Elicitation completed: action=accept, content={"age":25,"name":"Jane Smith"}`},
		{"sep1330 enums", "2025-11-25", "test_elicitation_sep1330_enums", nil,
			map[string]any{"action": "cancel"}, "Please select options from the enum fields", sep1330Schema,
			`Elicitation completed: action=cancel, content={}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := startServer(t, nil)
			c.initialize(tt.version, allCaps)
			res, _ := c.toolCall(tt.tool, tt.args, func(req *jsonrpc.Message) any {
				if req.Method != "elicitation/create" {
					t.Errorf("server request %s, want elicitation/create", req.Method)
				}
				var p struct {
					Mode            *string         `json:"mode"`
					Message         string          `json:"message"`
					RequestedSchema json.RawMessage `json:"requestedSchema"`
				}
				if err := json.Unmarshal(req.Params, &p); err != nil {
					t.Fatal(err)
				}
				if wantMode := tt.version == "2025-11-25"; (p.Mode != nil && *p.Mode == "form") != wantMode || (p.Mode == nil) == wantMode {
					t.Errorf("mode = %v in %s, want form only in 2025-11-25", p.Mode, tt.version)
				}
				if p.Message != tt.wantMessage || string(p.RequestedSchema) != string(tt.wantSchema) {
					t.Errorf("message %q schema %s, want %q %s", p.Message, p.RequestedSchema, tt.wantMessage, tt.wantSchema)
				}
				return tt.answer
			})
			if res.Content[0].Text != tt.wantText || res.IsError {
				t.Errorf("result %q (isError %v), want %q", res.Content[0].Text, res.IsError, tt.wantText)
			}
		})
	}
	t.Run("no elicitation capability", func(t *testing.T) {
		c := startServer(t, nil)
		c.initialize("2025-11-25", map[string]any{"sampling": map[string]any{}})
		res, _ := c.toolCall("test_elicitation", map[string]any{"message": "m"}, nil)
		if !res.IsError || !strings.Contains(res.Content[0].Text, "elicitation capability") {
			t.Errorf("result = %+v, want an error about the capability", res)
		}
	})
}

// TestRequestsRunConcurrently checks that a tool waiting for the client does
// not hold up other messages, and that responses find their waiting call.
func TestRequestsRunConcurrently(t *testing.T) {
	c := started(t, nil)
	slowID := c.sendRequest("tools/call", map[string]any{"name": "slow", "arguments": map[string]any{"ms": 600000}})
	sampleID := c.sendRequest("tools/call", map[string]any{"name": "test_sampling", "arguments": map[string]any{"prompt": "p"}})
	req := c.next()
	if req.Method != "sampling/createMessage" {
		t.Fatalf("got %s, want the sampling request", jsonrpc.Encode(req))
	}
	// While both calls wait, other requests are answered.
	if got := c.mustResult("ping", nil); string(got) != "{}" {
		t.Errorf("ping = %s", got)
	}
	if res, _ := c.toolCall("echo", map[string]any{"message": "still here"}, nil); res.Content[0].Text != "Echo: still here" {
		t.Errorf("echo = %+v", res)
	}
	c.reply(req, map[string]any{"role": "assistant", "content": map[string]any{"type": "text", "text": "ok"}, "model": "m"})
	resp, _ := c.await(sampleID, nil)
	if !strings.Contains(string(resp.Result), "LLM response: ok") {
		t.Errorf("sampling result = %s", resp.Result)
	}
	// Cancel slow: it stops and never answers [C].
	c.send(jsonrpc.NewNotification("notifications/cancelled", jsonrpc.MustRaw(map[string]any{"requestId": json.RawMessage(slowID), "reason": "test"})))
	if rest := c.finish(); len(rest) != 0 {
		t.Errorf("after cancelling slow the server wrote %q, want nothing", rest)
	}
}

// TestCancelWhileWaitingForClient cancels a tool call whose tool waits for a
// sampling response: the server cancels its own request in turn.
func TestCancelWhileWaitingForClient(t *testing.T) {
	c := started(t, nil)
	id := c.sendRequest("tools/call", map[string]any{"name": "test_sampling", "arguments": map[string]any{"prompt": "p"}})
	req := c.next()
	c.send(jsonrpc.NewNotification("notifications/cancelled", jsonrpc.MustRaw(map[string]any{"requestId": json.RawMessage(id)})))
	n := c.next()
	var p struct {
		RequestID json.RawMessage `json:"requestId"`
	}
	if n.Method != "notifications/cancelled" || json.Unmarshal(n.Params, &p) != nil || string(p.RequestID) != string(req.ID) {
		t.Fatalf("got %s, want notifications/cancelled for the sampling request %s", jsonrpc.Encode(n), req.ID)
	}
	// A late answer to the cancelled request is ignored.
	c.reply(req, map[string]any{"role": "assistant", "content": map[string]any{"type": "text", "text": "late"}, "model": "m"})
	if got := c.mustResult("ping", nil); string(got) != "{}" {
		t.Errorf("ping = %s", got)
	}
	if rest := c.finish(); len(rest) != 0 {
		t.Errorf("server wrote %q after the cancelled call, want nothing", rest)
	}
}

func TestClientRequestTimeout(t *testing.T) {
	c := started(t, &Options{ClientRequestTimeout: 20 * time.Millisecond})
	id := c.sendRequest("tools/call", map[string]any{"name": "test_elicitation", "arguments": map[string]any{"message": "m"}})
	req := c.next()
	if req.Method != "elicitation/create" {
		t.Fatalf("got %s, want elicitation/create", jsonrpc.Encode(req))
	}
	resp, notes := c.await(id, nil) // never answer
	if len(notes) != 1 || notes[0].Method != "notifications/cancelled" || !strings.Contains(string(notes[0].Params), `"reason":"timeout"`) {
		t.Errorf("notifications = %v, want notifications/cancelled with reason timeout", notes)
	}
	var res toolResult
	if err := json.Unmarshal(resp.Result, &res); err != nil || !res.IsError || !strings.Contains(res.Content[0].Text, "did not answer in time") {
		t.Errorf("result = %s, want a timeout error result", resp.Result)
	}
}

func TestDuplicateRequestID(t *testing.T) {
	c := started(t, nil)
	c.send(`{"jsonrpc":"2.0","id":"dup","method":"tools/call","params":{"name":"slow","arguments":{"ms":600000}}}`)
	c.send(`{"jsonrpc":"2.0","id":"dup","method":"tools/call","params":{"name":"echo","arguments":{"message":"x"}}}`)
	m := c.next()
	if m.Error == nil || m.Error.Code != jsonrpc.CodeInvalidRequest || string(m.ID) != `"dup"` {
		t.Errorf("second request with the same id = %s, want invalid request", jsonrpc.Encode(m))
	}
}

func TestMaxInFlight(t *testing.T) {
	c := started(t, &Options{MaxInFlight: 1})
	c.sendRequest("tools/call", map[string]any{"name": "slow", "arguments": map[string]any{"ms": 600000}})
	resp, _ := c.call("tools/list", nil, nil)
	if resp.Error == nil || resp.Error.Code != jsonrpc.CodeInternalError {
		t.Errorf("request over the cap = %s, want internal error", jsonrpc.Encode(resp))
	}
	// Inline methods are not counted.
	if got := c.mustResult("ping", nil); string(got) != "{}" {
		t.Errorf("ping = %s", got)
	}
}
