package relay

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// TestMRTRURLElicitation: a session-era upstream's -32042
// URLElicitationRequired reaches a 2026-07-28 client as an
// InputRequiredResult of url-mode elicitation/create requests, without
// elicitationId and requestState; the retry is a fresh call.
func TestMRTRURLElicitation(t *testing.T) {
	tests := []struct {
		name     string
		data     string // the -32042 error's data; "" none
		caps     string
		want     string // the InputRequiredResult's inputRequests
		wantCode int
	}{
		{name: "one elicitation", caps: `{"elicitation":{"url":{}}}`,
			data: `{"elicitations":[{"mode":"url","elicitationId":"auth-1","url":"https://idp.example/consent","message":"Sign in"}]}`,
			want: `{"auth-1":{"method":"elicitation/create","params":{"message":"Sign in","mode":"url","url":"https://idp.example/consent"}}}`},
		{name: "ids that are not keys", caps: `{"elicitation":{"url":{},"form":{}}}`,
			data: `{"elicitations":[{"elicitationId":"has space","url":"https://a.example","message":"a"},{"url":"https://b.example","message":"b"}]}`,
			want: `{"url_elicitation":{"method":"elicitation/create","params":{"message":"a","mode":"url","url":"https://a.example"}},"url_elicitation_2":{"method":"elicitation/create","params":{"message":"b","mode":"url","url":"https://b.example"}}}`},
		{name: "url mode not declared", caps: `{"elicitation":{}}`,
			data:     `{"elicitations":[{"mode":"url","elicitationId":"auth-1","url":"https://idp.example/consent","message":"Sign in"}]}`,
			wantCode: mcp.CodeMissingClientCapability},
		{name: "no elicitations: the error as it came", caps: `{"elicitation":{"url":{}}}`, wantCode: codeURLElicitationRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			l := &fakeConn{name: "l", info: toolsInfo(), serve: func(_ context.Context, method string, params json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
				switch method {
				case mcp.MethodToolsList:
					return json.RawMessage(`{"tools":[{"name":"pay"}]}`), nil
				case mcp.MethodToolsCall:
					if calls.Add(1) > 1 {
						return json.RawMessage(`{"content":[{"type":"text","text":"paid"}]}`), nil
					}
					e := &jsonrpc.Error{Code: codeURLElicitationRequired, Message: "URL elicitation required"}
					if tt.data != "" {
						e.Data = json.RawMessage(tt.data)
					}
					return nil, e
				}
				return json.RawMessage(`{}`), nil
			}}
			r := newTestRelay(t, Options{}, l)
			c := statelessClient("alice", tt.caps)
			resp := r.HandleRequest(context.Background(), c, request(1, mcp.MethodToolsCall, `{"name":"pay","arguments":{}}`), newRecStream())
			if tt.wantCode != 0 {
				if resp == nil || resp.Error == nil || resp.Error.Code != tt.wantCode {
					t.Fatalf("got %v, want error %d", resp, tt.wantCode)
				}
				if tt.wantCode == mcp.CodeMissingClientCapability && string(resp.Error.Data) != `{"requiredCapabilities":{"elicitation":{"url":{}}}}` {
					t.Errorf("data %s", resp.Error.Data)
				}
				return
			}
			var ir struct {
				ResultType    string          `json:"resultType"`
				InputRequests json.RawMessage `json:"inputRequests"`
				RequestState  *string         `json:"requestState"`
			}
			if resp == nil || resp.Error != nil || json.Unmarshal(resp.Result, &ir) != nil {
				t.Fatalf("got %v, want an InputRequiredResult", resp)
			}
			if ir.ResultType != "input_required" || string(ir.InputRequests) != tt.want || ir.RequestState != nil {
				t.Errorf("result %s\nwant inputRequests %s and no requestState", resp.Result, tt.want)
			}
			retry := r.HandleRequest(context.Background(), c, request(2, mcp.MethodToolsCall,
				`{"name":"pay","arguments":{},"inputResponses":{"auth-1":{"action":"accept"}}}`), newRecStream())
			if retry == nil || retry.Error != nil || !strings.Contains(string(retry.Result), "paid") {
				t.Errorf("retry: %v, want the result of a fresh call", retry)
			}
		})
	}
}
