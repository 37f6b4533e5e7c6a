package relay

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// progressAskConn is a session-era upstream whose tool reports progress,
// asks the client one question, and reports progress again once answered:
// the progress of the second round must go out on the retry's stream with
// the retry's own progress token (docs/protocol-eras.md §4.3 A step 4).
func progressAskConn() *fakeConn {
	f := &fakeConn{name: "a", info: toolsInfo(), respCh: make(chan *jsonrpc.Message, 1)}
	f.serve = func(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
		switch method {
		case mcp.MethodToolsList:
			return json.RawMessage(`{"tools":[{"name":"ask"}]}`), nil
		case mcp.MethodToolsCall:
		default:
			return json.RawMessage(`{}`), nil
		}
		var p struct {
			Meta struct {
				ProgressToken json.RawMessage `json:"progressToken"`
			} `json:"_meta"`
		}
		_ = json.Unmarshal(params, &p)
		progress := func(n int) {
			if p.Meta.ProgressToken != nil {
				f.h.UpstreamMessage("a", jsonrpc.NewNotification(mcp.NotificationProgress,
					jsonrpc.MustRaw(map[string]any{"progressToken": p.Meta.ProgressToken, "progress": n})))
			}
		}
		progress(1)
		f.h.UpstreamMessage("a", jsonrpc.NewRequest(json.RawMessage(`"e1"`), mcp.MethodElicitationCreate,
			json.RawMessage(`{"message":"name?","_meta":{"`+mcp.MetaInputKey+`":"user_name"}}`)))
		select {
		case <-f.respCh:
		case <-ctx.Done():
			return nil, jsonrpc.NewError(jsonrpc.CodeInternalError, "cancelled")
		}
		progress(2)
		return json.RawMessage(`{"content":[{"type":"text","text":"done"}]}`), nil
	}
	return f
}

// progressTokens are the progress tokens of the progress notifications on s.
func progressTokens(t *testing.T, s *recStream) []string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var toks []string
	for _, m := range s.msgs {
		if m.Method != mcp.NotificationProgress {
			continue
		}
		var p struct {
			ProgressToken json.RawMessage `json:"progressToken"`
		}
		if err := json.Unmarshal(m.Params, &p); err != nil {
			t.Fatalf("progress %s: %v", m.Params, err)
		}
		toks = append(toks, string(p.ProgressToken))
	}
	return toks
}

func TestMRTRProgressToken(t *testing.T) {
	tests := []struct {
		name       string
		firstToken string // raw progressToken of round 1; "" none
		retryToken string // raw progressToken of the retry; "" none
		wantFirst  []string
		wantRetry  []string
	}{
		{"retry's own token", `"p1"`, `"p2"`, []string{`"p1"`}, []string{`"p2"`}},
		{"numeric retry token", `"p1"`, `7`, []string{`"p1"`}, []string{`7`}},
		{"same token again", `"p1"`, `"p1"`, []string{`"p1"`}, []string{`"p1"`}},
		{"retry without a token gets none", `"p1"`, ``, []string{`"p1"`}, nil},
		{"no token in round 1: upstream cannot report", ``, `"p2"`, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestRelay(t, Options{}, progressAskConn())
			c := statelessClient("alice", "")
			meta := func(tok string) string {
				if tok == "" {
					return ""
				}
				return `,"_meta":{"progressToken":` + tok + `}`
			}
			first := newRecStream()
			resp := r.HandleRequest(context.Background(), c, request(1, mcp.MethodToolsCall, `{"name":"ask","arguments":{}`+meta(tt.firstToken)+`}`), first)
			var ir mrtrAnswer
			if resp == nil || resp.Error != nil || json.Unmarshal(resp.Result, &ir) != nil || ir.ResultType != "input_required" {
				t.Fatalf("round 1: %v, want an InputRequiredResult", resp)
			}
			retry := newRecStream()
			params := `{"name":"ask","arguments":{},"requestState":` + string(jsonrpc.MustRaw(ir.RequestState)) +
				`,"inputResponses":{"user_name":` + elicitOK + `}` + meta(tt.retryToken) + `}`
			resp = r.HandleRequest(context.Background(), c, request(2, mcp.MethodToolsCall, params), retry)
			if resp == nil || resp.Error != nil || !strings.Contains(string(resp.Result), `"text":"done"`) {
				t.Fatalf("retry: %v, want the result", resp)
			}
			if got := progressTokens(t, first); !slices.Equal(got, tt.wantFirst) {
				t.Errorf("round 1 progress tokens %v, want %v", got, tt.wantFirst)
			}
			if got := progressTokens(t, retry); !slices.Equal(got, tt.wantRetry) {
				t.Errorf("retry progress tokens %v, want %v", got, tt.wantRetry)
			}
		})
	}
}
