package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/sse/ssetest"
)

// TestTaskNotificationsThroughGateway: a 2026-07-28 client follows its
// task on a listen through the gateway; the gateway follows the task on
// the 2026-only demo's listen and relays its notifications/tasks with the
// client's task token and the listen's subscriptionId, up to the completed
// state with its result (docs/protocol-eras.md §4.6, §10 increment 7).
func TestTaskNotificationsThroughGateway(t *testing.T) {
	endpoint, _ := startGateway(t, parseConfig(t, modernOnly))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const caps = `{"extensions":{"io.modelcontextprotocol/tasks":{}}}`

	status, body := taskRequest(t, ctx, endpoint, "tools/call", "slow_compute", caps, `"name":"slow_compute","arguments":{"seconds":1}`)
	var created struct {
		Result struct {
			TaskID string `json:"taskId"`
		} `json:"result"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &created) != nil || !strings.HasPrefix(created.Result.TaskID, "mcpgatetask1.") {
		t.Fatalf("tools/call: %d %s, want a task token", status, body)
	}
	tok := created.Result.TaskID

	// Following a task needs the extension declared: 400 -32021 [SEP-2663
	// §Task Status Notifications].
	if status, body := taskRequest(t, ctx, endpoint, "subscriptions/listen", "", `{}`, `"notifications":{"taskIds":["`+tok+`"]}`); status != http.StatusBadRequest ||
		!strings.Contains(string(body), `"code":-32021`) {
		t.Errorf("listen without the extension: %d %s, want 400 -32021", status, body)
	}

	listenBody := `{"jsonrpc":"2.0","id":"follow-1","method":"subscriptions/listen","params":{"notifications":{"taskIds":["` + tok +
		`"]},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":` + caps + `}}}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(listenBody))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"Accept": "application/json, text/event-stream", "Content-Type": "application/json",
		"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "subscriptions/listen"} {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	frames := ssetest.NewReader(resp.Body)
	next := func() (string, map[string]json.RawMessage) {
		t.Helper()
		method, raw := nextListenFrame(t, frames)
		var params map[string]json.RawMessage
		if err := json.Unmarshal(raw, &params); err != nil {
			t.Fatalf("listen params %s: %v", raw, err)
		}
		return method, params
	}
	if method, params := next(); method != "notifications/subscriptions/acknowledged" || string(params["notifications"]) != `{"taskIds":["`+tok+`"]}` {
		t.Fatalf("first listen message %s %v, want the acknowledgement of the task", method, params)
	}
	for {
		method, params := next()
		if method != "notifications/tasks" || string(params["taskId"]) != `"`+tok+`"` ||
			string(params["_meta"]) != `{"io.modelcontextprotocol/subscriptionId":"follow-1"}` {
			t.Fatalf("listen got %s %v, want notifications/tasks under the token, tagged follow-1", method, params)
		}
		if string(params["status"]) == `"completed"` {
			if !strings.Contains(string(params["result"]), "Computed after 1s") {
				t.Errorf("completed task notification without its result: %s", params["result"])
			}
			return
		}
	}
}

// nextListenFrame reads the next message of a listen's SSE stream,
// skipping keep-alive comments.
func nextListenFrame(t *testing.T, frames *ssetest.Reader) (method string, params json.RawMessage) {
	t.Helper()
	f, err := frames.Next()
	for err == nil && !f.HasData {
		f, err = frames.Next()
	}
	if err != nil {
		t.Fatalf("reading the listen stream: %v", err)
	}
	var m struct {
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal([]byte(f.Data), &m); err != nil {
		t.Fatalf("listen frame %q: %v", f.Data, err)
	}
	return m.Method, m.Params
}
