package relay

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/principal"
)

// TestSessionClientTaskProgress: while the gateway polls a task for a
// session client, status changes become progress notifications with the
// client's token when the call asked for progress.
func TestSessionClientTaskProgress(t *testing.T) {
	polls := []string{
		`{"resultType":"complete","taskId":"t1","status":"working","statusMessage":"step 1","pollIntervalMs":1}`,
		`{"resultType":"complete","taskId":"t1","status":"working","statusMessage":"step 1","pollIntervalMs":1}`,
		`{"resultType":"complete","taskId":"t1","status":"working","statusMessage":"step 2","pollIntervalMs":1}`,
		`{"resultType":"complete","taskId":"t1","status":"completed","result":{"content":[{"type":"text","text":"done"}]}}`,
	}
	tests := []struct {
		name string
		meta string // the call's _meta; "" none
		want []string
	}{
		{"with a progress token", `,"_meta":{"progressToken":"pt"}`,
			[]string{`{"progressToken":"pt","progress":1,"message":"step 1"}`, `{"progressToken":"pt","progress":2,"message":"step 2"}`,
				`{"progressToken":"pt","progress":3,"message":"task completed"}`}},
		{"numeric token", `,"_meta":{"progressToken":42}`,
			[]string{`{"progressToken":42,"progress":1,"message":"step 1"}`, `{"progressToken":42,"progress":2,"message":"step 2"}`,
				`{"progressToken":42,"progress":3,"message":"task completed"}`}},
		{"no progress asked", ``, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			gets := 0
			m := &fakeConn{name: "m", info: tasksInfo(), serve: func(_ context.Context, method string, params json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
				switch method {
				case mcp.MethodToolsList:
					return json.RawMessage(`{"tools":[{"name":"job"}]}`), nil
				case mcp.MethodToolsCall:
					if !strings.Contains(string(params), mcp.ExtensionTasks) {
						return nil, &jsonrpc.Error{Code: mcp.CodeMissingClientCapability, Message: "tasks required", Data: mcp.MissingTasksData}
					}
					return json.RawMessage(`{"resultType":"task","taskId":"t1","status":"working","pollIntervalMs":1}`), nil
				case mcp.MethodTasksGet:
					mu.Lock()
					defer mu.Unlock()
					gets++
					return json.RawMessage(polls[min(gets, len(polls))-1]), nil
				}
				return json.RawMessage(`{}`), nil
			}}
			r := newTestRelay(t, Options{}, m)
			c := &Client{SessionID: "s1", ProtocolVersion: mcp.Version20251125, Principal: principal.Anonymous,
				Capabilities: ClientCapabilities{Raw: json.RawMessage(`{}`)}}
			r.Attach(c)
			out := newRecStream()
			resp := r.HandleRequest(context.Background(), c, request(1, mcp.MethodToolsCall, `{"name":"job"`+tt.meta+`}`), out)
			if resp == nil || resp.Error != nil || !strings.Contains(string(resp.Result), `"text":"done"`) {
				t.Fatalf("response %v, want the task's result", resp)
			}
			out.mu.Lock()
			var got []string
			for _, msg := range out.msgs {
				if msg.Method == mcp.NotificationProgress {
					got = append(got, string(msg.Params))
				}
			}
			out.mu.Unlock()
			if !slices.Equal(got, tt.want) {
				t.Errorf("progress\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
}
