package demo

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
)

var wantToolNames = []string{
	"test_simple_text", "test_image_content", "test_audio_content", "test_embedded_resource",
	"test_multiple_content_types", "test_tool_with_logging", "test_tool_with_progress", "test_error_handling",
	"test_reconnection", "test_sampling", "test_elicitation", "test_elicitation_sep1034_defaults",
	"test_elicitation_sep1330_enums", "json_schema_2020_12_tool",
	"echo", "add", "slow", "get_env", "crash", "trigger_list_changed", "update_watched_resource", "list_roots",
	"test_missing_capability", "test_streaming_elicitation", "test_logging_tool", "test_header_param",
	"test_trigger_tool_change", "test_trigger_prompt_change",
	// tools_mrtr.go
	"test_input_required_result_elicitation", "test_input_required_result_sampling",
	"test_input_required_result_list_roots", "test_input_required_result_request_state",
	"test_input_required_result_multiple_inputs", "test_input_required_result_multi_round",
	"test_input_required_result_tampered_state", "test_input_required_result_capabilities",
}

type listedTool struct {
	Name         string          `json:"name"`
	Title        string          `json:"title"`
	Description  string          `json:"description"`
	InputSchema  json.RawMessage `json:"inputSchema"`
	OutputSchema json.RawMessage `json:"outputSchema"`
	Annotations  json.RawMessage `json:"annotations"`
}

func listTools(c *pipeClient, cursor string) ([]listedTool, string) {
	c.t.Helper()
	var params any
	if cursor != "" {
		params = map[string]string{"cursor": cursor}
	}
	var res struct {
		Tools      []listedTool `json:"tools"`
		NextCursor string       `json:"nextCursor"`
	}
	if err := json.Unmarshal(c.mustResult("tools/list", params), &res); err != nil {
		c.t.Fatal(err)
	}
	return res.Tools, res.NextCursor
}

func toolNames(tools []listedTool) []string {
	var names []string
	for _, tl := range tools {
		names = append(names, tl.Name)
	}
	return names
}

func TestToolsList(t *testing.T) {
	c := started(t, nil)
	tools, next := listTools(c, "")
	if next != "" {
		t.Errorf("nextCursor = %q without a page size, want none", next)
	}
	if diff := cmp.Diff(wantToolNames, toolNames(tools)); diff != "" {
		t.Errorf("tool names (-want +got):\n%s", diff)
	}
	for _, tl := range tools {
		// The suite's tools-list check: name, description and inputSchema.
		if tl.Description == "" || !strings.HasPrefix(string(tl.InputSchema), `{"type":"object"`) && tl.Name != "json_schema_2020_12_tool" {
			t.Errorf("tool %s: description %q, inputSchema %s", tl.Name, tl.Description, tl.InputSchema)
		}
		if tl.Name == "json_schema_2020_12_tool" && string(tl.InputSchema) != string(jsonSchema202012) {
			t.Errorf("json_schema_2020_12_tool inputSchema = %s, want the fixture byte for byte", tl.InputSchema)
		}
		if tl.Name == "add" && (tl.Title != "Add" || len(tl.OutputSchema) == 0 || len(tl.Annotations) == 0) {
			t.Errorf("add in 2025-11-25: title %q, outputSchema %s, annotations %s", tl.Title, tl.OutputSchema, tl.Annotations)
		}
	}

	t.Run("2024-11-05 gets no later fields", func(t *testing.T) {
		c := startServer(t, nil)
		c.initialize("2024-11-05", nil)
		tools, _ := listTools(c, "")
		for _, tl := range tools {
			if tl.Title != "" || tl.OutputSchema != nil || tl.Annotations != nil {
				t.Errorf("tool %s in 2024-11-05 has title %q outputSchema %s annotations %s", tl.Name, tl.Title, tl.OutputSchema, tl.Annotations)
			}
		}
	})

	t.Run("pages", func(t *testing.T) {
		c := started(t, &Options{PageSize: 5})
		var all []listedTool
		cursor, pages := "", 0
		for {
			page, next := listTools(c, cursor)
			pages++
			if len(page) > 5 {
				t.Errorf("page %d has %d tools, want at most 5", pages, len(page))
			}
			all = append(all, page...)
			if next == "" {
				break
			}
			cursor = next
		}
		if want := (len(wantToolNames) + 4) / 5; pages != want {
			t.Errorf("got %d pages, want %d", pages, want)
		}
		if diff := cmp.Diff(wantToolNames, toolNames(all)); diff != "" {
			t.Errorf("paged tool names (-want +got):\n%s", diff)
		}
	})
}

func TestSuiteToolResults(t *testing.T) {
	tests := []struct {
		name string
		args any
		want string
	}{
		{"test_simple_text", nil, `{"content":[{"type":"text","text":"This is a simple text response for testing."}]}`},
		{"test_image_content", map[string]any{}, `{"content":[{"type":"image","data":"` + testImageBase64 + `","mimeType":"image/png"}]}`},
		{"test_audio_content", map[string]any{}, `{"content":[{"type":"audio","data":"` + testAudioBase64 + `","mimeType":"audio/wav"}]}`},
		{"test_embedded_resource", map[string]any{}, `{"content":[{"type":"resource","resource":{"uri":"test://embedded-resource",` +
			`"mimeType":"text/plain","text":"This is an embedded resource content."}}]}`},
		{"test_multiple_content_types", map[string]any{}, `{"content":[{"type":"text","text":"Multiple content types test:"},` +
			`{"type":"image","data":"` + testImageBase64 + `","mimeType":"image/png"},` +
			`{"type":"resource","resource":{"uri":"test://mixed-content-resource","mimeType":"application/json","text":"{\"test\":\"data\",\"value\":123}"}}]}`},
		{"test_error_handling", map[string]any{}, `{"content":[{"type":"text","text":"This tool intentionally returns an error for testing"}],"isError":true}`},
		{"test_reconnection", map[string]any{}, `{"content":[{"type":"text","text":"Reconnection test completed successfully. ` +
			`If you received this, the client properly reconnected after stream closure."}]}`},
		{"json_schema_2020_12_tool", map[string]any{"name": "x", "address": map[string]any{"city": "y"}},
			`{"content":[{"type":"text","text":"JSON Schema 2020-12 tool called with: {\"address\":{\"city\":\"y\"},\"name\":\"x\"}"}]}`},
		{"echo", map[string]any{"message": "hi there"}, `{"content":[{"type":"text","text":"Echo: hi there"}]}`},
		{"echo", map[string]any{}, `{"content":[{"type":"text","text":"Invalid arguments: message is required"}],"isError":true}`},
		{"echo", map[string]any{"message": 5}, `{"content":[{"type":"text","text":"Invalid arguments: \"message\" has the wrong type"}],"isError":true}`},
		{"add", map[string]any{"a": 2, "b": 0.5}, `{"content":[{"type":"text","text":"The sum of 2 and 0.5 is 2.5."}],"structuredContent":{"sum":2.5}}`},
		{"slow", map[string]any{"ms": 0}, `{"content":[{"type":"text","text":"Slept 0 ms"}]}`},
		{"slow", map[string]any{"ms": -1}, `{"content":[{"type":"text","text":"Invalid arguments: ms must be an integer from 0 to 600000"}],"isError":true}`},
	}
	c := started(t, &Options{ReconnectionDelay: 1})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			params := map[string]any{"name": tt.name}
			if tt.args != nil {
				params["arguments"] = tt.args
			}
			got := c.mustResult("tools/call", params)
			if diff := cmp.Diff(unmarshal(t, []byte(tt.want)), unmarshal(t, got)); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
		})
	}
}

func TestProgress(t *testing.T) {
	tests := []struct {
		name     string
		token    any
		wantText string
	}{
		{"string token", "progress-test-1", "progress-test-1"},
		{"integer token", 7, "7"},
		{"no token", nil, "no progress token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := started(t, &Options{StepDelay: 1})
			params := map[string]any{"name": "test_tool_with_progress", "arguments": map[string]any{}}
			if tt.token != nil {
				params["_meta"] = map[string]any{"progressToken": tt.token}
			}
			resp, notes := c.call("tools/call", params, nil)
			var got []any
			for _, n := range notes {
				if n.Method != "notifications/progress" {
					t.Errorf("unexpected notification %s", n.Method)
					continue
				}
				got = append(got, unmarshal(t, n.Params))
			}
			var want []any
			if tt.token != nil {
				tok := unmarshal(t, jsonrpc.MustRaw(tt.token))
				for _, p := range []float64{0, 50, 100} {
					want = append(want, map[string]any{"progressToken": tok, "progress": p, "total": 100.0,
						"message": "Completed step " + jsonNumber(p) + " of 100"})
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("progress notifications (-want +got):\n%s", diff)
			}
			if !strings.Contains(string(resp.Result), `"text":"`+tt.wantText+`"`) {
				t.Errorf("result = %s, want text %q", resp.Result, tt.wantText)
			}
		})
	}
}

func jsonNumber(f float64) string { return string(jsonrpc.MustRaw(f)) }

func TestLoggingLevels(t *testing.T) {
	logs := func(notes []*jsonrpc.Message) []string {
		var out []string
		for _, n := range notes {
			var p struct {
				Level string `json:"level"`
				Data  string `json:"data"`
			}
			if n.Method != "notifications/message" || json.Unmarshal(n.Params, &p) != nil {
				t.Errorf("unexpected notification %s %s", n.Method, n.Params)
				continue
			}
			out = append(out, p.Level+": "+p.Data)
		}
		return out
	}
	toolLogs := []string{"info: Tool execution started", "info: Tool processing data", "info: Tool execution completed"}
	tests := []struct {
		name      string
		level     string // "" sets none
		wantSet   []string
		wantTool  []string
		wantTotal string
	}{
		{"no level set sends everything", "", nil, toolLogs, ""},
		{"debug", "debug", []string{"info: Log level set to: debug"}, toolLogs, ""},
		{"info", "info", []string{"info: Log level set to: info"}, toolLogs, ""},
		{"warning filters info", "warning", nil, nil, ""},
		{"emergency", "emergency", nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := started(t, &Options{StepDelay: 1})
			if tt.level != "" {
				resp, notes := c.call("logging/setLevel", map[string]string{"level": tt.level}, nil)
				if string(resp.Result) != "{}" {
					t.Errorf("logging/setLevel = %s, want {}", resp.Result)
				}
				// The confirmation is sent before the response.
				if diff := cmp.Diff(tt.wantSet, logs(notes)); diff != "" {
					t.Errorf("setLevel logs (-want +got):\n%s", diff)
				}
			}
			res, notes := c.toolCall("test_tool_with_logging", map[string]any{}, nil)
			if diff := cmp.Diff(tt.wantTool, logs(notes)); diff != "" {
				t.Errorf("tool logs (-want +got):\n%s", diff)
			}
			if res.Content[0].Text != "Tool with logging executed successfully" {
				t.Errorf("result text = %q", res.Content[0].Text)
			}
		})
	}
}

func TestExtraTools(t *testing.T) {
	env := map[string]string{"MCPGATE_TOKEN": "t0k", "DEMO_X": "x", "HOME": "/root"}
	exited := make(chan int, 1)
	c := started(t, &Options{
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Exit:      func(code int) { exited <- code },
	})

	t.Run("get_env", func(t *testing.T) {
		c.t = t
		for name, want := range map[string]struct {
			text    string
			isError bool
		}{
			"MCPGATE_TOKEN": {"t0k", false},
			"DEMO_X":        {"x", false},
			"DEMO_UNSET":    {"DEMO_UNSET is not set", true},
			"HOME":          {"get_env only reads variables whose names start with MCPGATE_ or DEMO_", true},
			"MCPGATE_":      {"get_env only reads variables whose names start with MCPGATE_ or DEMO_", true},
		} {
			res, _ := c.toolCall("get_env", map[string]any{"name": name}, nil)
			if res.Content[0].Text != want.text || res.IsError != want.isError {
				t.Errorf("get_env %s = %q (isError %v), want %q (isError %v)", name, res.Content[0].Text, res.IsError, want.text, want.isError)
			}
		}
	})

	t.Run("trigger_list_changed toggles dynamic_tool", func(t *testing.T) {
		c.t = t
		for _, wantListed := range []bool{true, false} {
			_, notes := c.toolCall("trigger_list_changed", nil, nil)
			if len(notes) != 1 || notes[0].Method != "notifications/tools/list_changed" {
				t.Fatalf("notifications = %v, want one tools/list_changed", notes)
			}
			tools, _ := listTools(c, "")
			listed := toolNames(tools)[len(tools)-1] == "dynamic_tool"
			if listed != wantListed {
				t.Errorf("dynamic_tool listed = %v, want %v", listed, wantListed)
			}
		}
		for list, method := range map[string]string{"prompts": "notifications/prompts/list_changed", "resources": "notifications/resources/list_changed"} {
			_, notes := c.toolCall("trigger_list_changed", map[string]any{"list": list}, nil)
			if len(notes) != 1 || notes[0].Method != method {
				t.Errorf("trigger_list_changed %s: notifications %v, want %s", list, notes, method)
			}
		}
	})

	t.Run("list_roots", func(t *testing.T) {
		c.t = t
		res, _ := c.toolCall("list_roots", nil, func(req *jsonrpc.Message) any {
			if req.Method != "roots/list" {
				t.Errorf("server request %s, want roots/list", req.Method)
			}
			return map[string]any{"roots": []any{map[string]string{"uri": "file:///w", "name": "w"}}}
		})
		if want := `Roots: {"roots":[{"name":"w","uri":"file:///w"}]}`; res.Content[0].Text != want {
			t.Errorf("list_roots = %q, want %q", res.Content[0].Text, want)
		}
	})

	t.Run("crash exits with status 3", func(t *testing.T) {
		c.t = t
		c.sendRequest("tools/call", map[string]any{"name": "crash"})
		if code := <-exited; code != CrashExitCode {
			t.Errorf("exit code = %d, want %d", code, CrashExitCode)
		}
	})
}
