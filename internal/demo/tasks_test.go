package demo

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// taskCaps declare the tasks extension (and elicitation).
var taskCaps = map[string]any{"elicitation": map[string]any{}, "extensions": map[string]any{mcp.ExtensionTasks: map[string]any{}}}

// wireTask is a CreateTaskResult or a tasks/get result.
type wireTask struct {
	ResultType     string                     `json:"resultType"`
	TaskID         string                     `json:"taskId"`
	Status         string                     `json:"status"`
	CreatedAt      string                     `json:"createdAt"`
	TTLMs          *int64                     `json:"ttlMs"`
	PollIntervalMs *int64                     `json:"pollIntervalMs"`
	InputRequests  map[string]json.RawMessage `json:"inputRequests"`
	Result         *toolResult                `json:"result"`
	Error          *jsonrpc.Error             `json:"error"`
	RequestState   *string                    `json:"requestState"`
	Content        []content                  `json:"content"` // a synchronous result
}

func (c *pipeClient) taskCall(method string, params map[string]any, caps any) *jsonrpc.Message {
	c.t.Helper()
	resp, _ := c.call(method, withMeta(params, modernMeta(caps, nil)), nil)
	return resp
}

func (c *pipeClient) task(method string, params map[string]any) wireTask {
	c.t.Helper()
	resp := c.taskCall(method, params, taskCaps)
	if resp.Error != nil {
		c.t.Fatalf("%s: error %d %s", method, resp.Error.Code, resp.Error.Message)
	}
	var w wireTask
	if err := json.Unmarshal(resp.Result, &w); err != nil {
		c.t.Fatalf("%s: %v in %s", method, err, resp.Result)
	}
	return w
}

// pollTask polls tasks/get until the task's status is one of want or
// terminal (the suite's own loop), within 10s.
func (c *pipeClient) pollTask(id string, want string) wireTask {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		w := c.task(mcp.MethodTasksGet, map[string]any{"taskId": id})
		if w.Status == want || mcp.TaskTerminal(w.Status) || time.Now().After(deadline) {
			return w
		}
		time.Sleep(20 * time.Millisecond) // polling interval, not synchronisation
	}
}

// TestTaskFixtures: each fixture of the suite's tasks-* scenarios, from
// tools/call to its terminal tasks/get.
func TestTaskFixtures(t *testing.T) {
	c := startServer(t, &Options{Era: EraModern})
	tests := []struct {
		name       string
		tool       string
		args       map[string]any
		wantStatus string // terminal status; "" means a synchronous result
		wantText   string
		wantError  bool // tool error (isError) in the result
	}{
		{"sync greet", "greet", map[string]any{"name": "World"}, "", "Hello, World!", false},
		{"slow_compute completes", "slow_compute", map[string]any{"seconds": 0.05, "label": "x"}, mcp.TaskCompleted, "Computed after 0.05s (x)", false},
		{"slow_compute 0s is a task", "slow_compute", map[string]any{"seconds": 0}, mcp.TaskCompleted, "Computed after 0s", false},
		{"failing_job completes with isError", "failing_job", nil, mcp.TaskCompleted, "The job failed", true},
		{"protocol_error_job fails", "protocol_error_job", nil, mcp.TaskFailed, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			created := c.task("tools/call", map[string]any{"name": tt.tool, "arguments": tt.args})
			if tt.wantStatus == "" {
				if created.ResultType != "complete" || created.TaskID != "" || len(created.Content) != 1 || created.Content[0].Text != tt.wantText {
					t.Fatalf("got %+v, want a synchronous result", created)
				}
				return
			}
			if created.ResultType != mcp.ResultTypeTask || created.TaskID == "" || created.Status != mcp.TaskWorking ||
				created.TTLMs == nil || created.PollIntervalMs == nil || created.RequestState != nil || created.Result != nil {
				t.Fatalf("CreateTaskResult %+v", created)
			}
			got := c.pollTask(created.TaskID, tt.wantStatus)
			if got.Status != tt.wantStatus || got.ResultType != "complete" || got.TaskID != created.TaskID {
				t.Fatalf("tasks/get %+v, want status %s", got, tt.wantStatus)
			}
			switch tt.wantStatus {
			case mcp.TaskCompleted:
				if got.Result == nil || got.Error != nil || got.Result.IsError != tt.wantError || !strings.Contains(got.Result.Content[0].Text, tt.wantText) {
					t.Errorf("completed task %+v, want %q (isError %v)", got.Result, tt.wantText, tt.wantError)
				}
			case mcp.TaskFailed:
				if got.Error == nil || got.Result != nil || got.Error.Code != jsonrpc.CodeInternalError {
					t.Errorf("failed task %+v", got)
				}
			}
		})
	}
}

// TestTaskGating: the extension decides per request; tasks/* need it; ids
// are checked; removed methods stay unknown.
func TestTaskGating(t *testing.T) {
	c := startServer(t, &Options{Era: EraModern})
	none := map[string]any{}
	tests := []struct {
		name     string
		method   string
		params   map[string]any
		caps     any
		wantCode int
		wantIn   string
	}{
		{"optional tool without extension runs synchronously", "tools/call", map[string]any{"name": "slow_compute", "arguments": map[string]any{"seconds": 0}}, none, 0, `"resultType":"complete","content"`},
		{"required tool without extension", "tools/call", map[string]any{"name": "failing_job"}, none, mcp.CodeMissingClientCapability, ""},
		{"required MRTR tool without extension", "tools/call", map[string]any{"name": "test_tool_with_task"}, none, mcp.CodeMissingClientCapability, ""},
		{"tasks/get without extension", "tasks/get", map[string]any{"taskId": "x"}, none, mcp.CodeMissingClientCapability, ""},
		{"tasks/update without extension", "tasks/update", map[string]any{"taskId": "x", "inputResponses": map[string]any{}}, none, mcp.CodeMissingClientCapability, ""},
		{"tasks/cancel without extension", "tasks/cancel", map[string]any{"taskId": "x"}, none, mcp.CodeMissingClientCapability, ""},
		{"unknown task", "tasks/get", map[string]any{"taskId": "nope"}, taskCaps, jsonrpc.CodeInvalidParams, ""},
		{"tasks/result removed", "tasks/result", map[string]any{"taskId": "x"}, taskCaps, jsonrpc.CodeMethodNotFound, ""},
		{"tasks/list removed", "tasks/list", map[string]any{}, taskCaps, jsonrpc.CodeMethodNotFound, ""},
		{"legacy task param ignored on a sync tool", "tools/call", map[string]any{"name": "greet", "arguments": map[string]any{"name": "a"}, "task": map[string]any{"ttl": 60000}}, taskCaps, 0, `Hello, a!`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := c.taskCall(tt.method, tt.params, tt.caps)
			if tt.wantCode != 0 {
				if resp.Error == nil || resp.Error.Code != tt.wantCode {
					t.Fatalf("got %s %v, want error %d", resp.Result, resp.Error, tt.wantCode)
				}
				if tt.wantCode == mcp.CodeMissingClientCapability && string(resp.Error.Data) != string(mcp.MissingTasksData) {
					t.Errorf("data %s, want %s", resp.Error.Data, mcp.MissingTasksData)
				}
				return
			}
			if resp.Error != nil || !strings.Contains(string(resp.Result), tt.wantIn) {
				t.Fatalf("got %s %v, want %s", resp.Result, resp.Error, tt.wantIn)
			}
		})
	}
}

// TestTaskInputAndCancel: input_required through tasks/get, partial and
// full tasks/update, cancellation of a running and of a terminal task.
func TestTaskInputAndCancel(t *testing.T) {
	c := startServer(t, &Options{Era: EraModern})
	accept := func(content map[string]any) map[string]any {
		return map[string]any{"action": "accept", "content": content}
	}

	t.Run("confirm_delete", func(t *testing.T) {
		id := c.task("tools/call", map[string]any{"name": "confirm_delete", "arguments": map[string]any{"filename": "a.txt"}}).TaskID
		got := c.pollTask(id, mcp.TaskInputRequired)
		if got.Status != mcp.TaskInputRequired || !strings.Contains(string(got.InputRequests["confirm"]), `"method":"elicitation/create"`) {
			t.Fatalf("tasks/get %+v", got)
		}
		ack := c.taskCall("tasks/update", map[string]any{"taskId": id, "inputResponses": map[string]any{"confirm": accept(map[string]any{"confirm": true})}}, taskCaps)
		if ack.Error != nil || string(ack.Result) != `{"resultType":"complete"}` {
			t.Fatalf("update ack %s %v", ack.Result, ack.Error)
		}
		if got = c.pollTask(id, mcp.TaskCompleted); got.Result == nil || got.Result.Content[0].Text != "Deleted a.txt" {
			t.Fatalf("tasks/get %+v", got)
		}
	})
	t.Run("multi_input partial", func(t *testing.T) {
		id := c.task("tools/call", map[string]any{"name": "multi_input"}).TaskID
		got := c.pollTask(id, mcp.TaskInputRequired)
		if len(got.InputRequests) != 2 {
			t.Fatalf("inputRequests %v, want 2", got.InputRequests)
		}
		c.task("tasks/update", map[string]any{"taskId": id, "inputResponses": map[string]any{"name": accept(map[string]any{"name": "Ann"}), "unknown": map[string]any{}}})
		got = c.task("tasks/get", map[string]any{"taskId": id})
		if _, still := got.InputRequests["name"]; got.Status != mcp.TaskInputRequired || still || got.InputRequests["confirm"] == nil {
			t.Fatalf("after a partial update: %+v", got)
		}
		c.task("tasks/update", map[string]any{"taskId": id, "inputResponses": map[string]any{"confirm": accept(map[string]any{"confirm": true})}})
		if got = c.pollTask(id, mcp.TaskCompleted); got.Result == nil || got.Result.Content[0].Text != "name=Ann, confirm=true" {
			t.Fatalf("tasks/get %+v", got)
		}
	})
	t.Run("cancel running, then terminal", func(t *testing.T) {
		id := c.task("tools/call", map[string]any{"name": "slow_compute", "arguments": map[string]any{"seconds": 60}}).TaskID
		for range 2 { // the second cancel meets a terminal task: the same ack
			if ack := c.taskCall("tasks/cancel", map[string]any{"taskId": id}, taskCaps); ack.Error != nil || string(ack.Result) != `{"resultType":"complete"}` {
				t.Fatalf("cancel ack %s %v", ack.Result, ack.Error)
			}
			if got := c.task("tasks/get", map[string]any{"taskId": id}); got.Status != mcp.TaskCancelled {
				t.Fatalf("status %s, want cancelled", got.Status)
			}
		}
	})
	t.Run("test_tool_with_task", func(t *testing.T) {
		round1 := c.task("tools/call", map[string]any{"name": "test_tool_with_task"})
		if round1.ResultType != "input_required" || round1.TaskID != "" || round1.InputRequests["user_name"] == nil {
			t.Fatalf("round 1 %+v", round1)
		}
		round2 := c.task("tools/call", map[string]any{"name": "test_tool_with_task", "requestState": *round1.RequestState,
			"inputResponses": map[string]any{"user_name": accept(map[string]any{"name": "Alice"})}})
		if round2.ResultType != mcp.ResultTypeTask || round2.TaskID == "" || round2.RequestState != nil {
			t.Fatalf("round 2 %+v", round2)
		}
		if got := c.pollTask(round2.TaskID, mcp.TaskCompleted); got.Result == nil || !strings.Contains(got.Result.Content[0].Text, "Alice") {
			t.Fatalf("tasks/get %+v", got)
		}
	})
	// A task still running when the server stops is cancelled with it:
	// TestMain's leak check fails otherwise.
	c.task("tools/call", map[string]any{"name": "slow_compute", "arguments": map[string]any{"seconds": 120}})
}
