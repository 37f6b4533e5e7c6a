package gateway

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	mcpproto "github.com/mcpgate/mcpgate/internal/mcp"
)

// modernOnly fronts the demo in its 2026-07-28 era, which offers the tasks
// extension (internal/demo/tasks*.go).
const modernOnly = `
upstreams:
  - name: modern
    command: DEMO
    args: [demo-server, --era, "2026-07-28"]
`

// TestSDKSessionClientTaskTools: a 2025-11-25 SDK client calls task-required
// tools of a modern upstream and gets synchronous answers: the gateway
// declares the tasks extension after the upstream's -32021, relays the
// multi-round-trip question that precedes the task, polls tasks/get and
// returns the task's result (docs/protocol-eras.md §4.6 second bullet).
func TestSDKSessionClientTaskTools(t *testing.T) {
	var elicited atomic.Int32
	answerName := func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		elicited.Add(1)
		return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"name": "Alice"}}, nil
	}
	endpoint, _ := startGateway(t, parseConfig(t, modernOnly))
	cs := connectSDK(t, endpoint, "2025-11-25", &mcp.ClientOptions{ElicitationHandler: answerName}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	tests := []struct {
		name        string
		tool        string
		args        map[string]any
		wantText    string
		wantIsError bool
		wantAsked   int32
	}{
		{"required task with a tool error", "failing_job", nil, "The job failed", true, 0},
		{"question, then a required task", "test_tool_with_task", nil, "Hello, Alice!", false, 1},
		{"optional task tool stays synchronous", "slow_compute", map[string]any{"seconds": 0.1}, "Computed after 0.1s", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := elicited.Load()
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tt.tool, Arguments: tt.args})
			if err != nil {
				t.Fatalf("%s: %v", tt.tool, err)
			}
			if got := textOf(t, res); !strings.Contains(got, tt.wantText) || res.IsError != tt.wantIsError {
				t.Errorf("%s: %q (isError %v), want %q (isError %v)", tt.tool, got, res.IsError, tt.wantText, tt.wantIsError)
			}
			if n := elicited.Load() - before; n != tt.wantAsked {
				t.Errorf("elicitations %d, want %d", n, tt.wantAsked)
			}
		})
	}
}

// TestStatelessTaskThroughGateway: a 2026-07-28 client's task on the modern
// demo, over HTTP: the taskId is a gateway token, tasks/get is routed by it
// (with Mcp-Name carrying it) until the task completes, and a tasks/get
// whose Mcp-Name differs from the body is refused (docs/protocol-eras.md §2
// rule 10, §4.6 first bullet).
func TestStatelessTaskThroughGateway(t *testing.T) {
	endpoint, _ := startGateway(t, parseConfig(t, modernOnly))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const caps = `{"extensions":{"io.modelcontextprotocol/tasks":{}}}`

	status, body := taskRequest(t, ctx, endpoint, "tools/call", "slow_compute", caps, `"name":"slow_compute","arguments":{"seconds":0.2}`)
	var created struct {
		Result struct {
			ResultType string `json:"resultType"`
			TaskID     string `json:"taskId"`
		} `json:"result"`
	}
	if err := json.Unmarshal(body, &created); err != nil || status != http.StatusOK || created.Result.ResultType != mcpproto.ResultTypeTask ||
		!strings.HasPrefix(created.Result.TaskID, "mcpgatetask1.") {
		t.Fatalf("tools/call: %d %s, want a CreateTaskResult with a gateway token", status, body)
	}
	tok := created.Result.TaskID
	params := `"taskId":"` + tok + `"`

	if status, body := taskRequest(t, ctx, endpoint, "tasks/get", "another-task", caps, params); status != http.StatusBadRequest || !strings.Contains(string(body), `"code":-32020`) {
		t.Errorf("mismatched Mcp-Name: %d %s, want 400 -32020", status, body)
	}
	if status, body := taskRequest(t, ctx, endpoint, "tasks/get", tok, `{}`, params); status != http.StatusBadRequest || !strings.Contains(string(body), `"code":-32021`) {
		t.Errorf("without the extension: %d %s, want 400 -32021", status, body)
	}
	for {
		status, body := taskRequest(t, ctx, endpoint, "tasks/get", tok, caps, params)
		var got struct {
			Result struct {
				TaskID string `json:"taskId"`
				Status string `json:"status"`
				Result *struct {
					Content []struct {
						Text string `json:"text"`
					} `json:"content"`
				} `json:"result"`
			} `json:"result"`
		}
		if err := json.Unmarshal(body, &got); err != nil || status != http.StatusOK || got.Result.TaskID != tok {
			t.Fatalf("tasks/get: %d %s, want the task under its token", status, body)
		}
		if got.Result.Status == mcpproto.TaskCompleted {
			if got.Result.Result == nil || len(got.Result.Result.Content) == 0 || got.Result.Result.Content[0].Text != "Computed after 0.2s" {
				t.Errorf("completed task %s", body)
			}
			return
		}
		if got.Result.Status != mcpproto.TaskWorking || ctx.Err() != nil {
			t.Fatalf("tasks/get: %s", body)
		}
		time.Sleep(50 * time.Millisecond) // the polling interval of a task client
	}
}

// taskRequest POSTs one 2026-07-28 request with the given client
// capabilities and Mcp-Name, and returns the status and body.
func taskRequest(t *testing.T, ctx context.Context, endpoint, method, name, caps, params string) (int, []byte) {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":1,"method":"` + method + `","params":{` + params + `,"_meta":{` +
		`"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":` + caps + `}}}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"Accept": "application/json, text/event-stream", "Content-Type": "application/json",
		"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": method, "Mcp-Name": name} {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: reading the body: %v", method, err)
	}
	return resp.StatusCode, b
}
