package relay

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// TestListen drives subscriptions/listen (docs/protocol-eras.md §4.4): the
// acknowledgement first, list_changed only for the kinds asked for, every
// notification tagged with the listen request's id, and the registration
// dropped when the client goes away.
func TestListen(t *testing.T) {
	var mu sync.Mutex
	tools, prompts := `[{"name":"one"}]`, `[{"name":"p"}]`
	a := &fakeConn{name: "a", info: toolsInfo()}
	a.serve = func(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
		mu.Lock()
		defer mu.Unlock()
		switch method {
		case mcp.MethodToolsList:
			return json.RawMessage(`{"tools":` + tools + `}`), nil
		case mcp.MethodPromptsList:
			return json.RawMessage(`{"prompts":` + prompts + `}`), nil
		}
		return json.RawMessage(`{}`), nil
	}
	r := newTestRelay(t, Options{}, a)

	t.Run("filter required", func(t *testing.T) {
		c := &Client{SessionID: "stateless-0", Stateless: true}
		resp := r.HandleRequest(context.Background(), c, request(9, mcp.MethodSubscriptionsListen, `{"_meta":{}}`), newRecStream())
		if resp == nil || resp.Error == nil || resp.Error.Code != jsonrpc.CodeInvalidParams {
			t.Fatalf("listen without notifications = %+v, want -32602", resp)
		}
	})

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	open := func(id int, filter string) *recStream {
		s := newRecStream()
		c := &Client{SessionID: "stateless-l", Stateless: true}
		wg.Go(func() {
			if resp := r.HandleRequest(ctx, c, request(id, mcp.MethodSubscriptionsListen, `{"notifications":`+filter+`}`), s); resp != nil {
				t.Errorf("listen %d answered %s; a listen stream gets no response", id, jsonrpc.Encode(resp))
			}
		})
		return s
	}
	toolsL := open(41, `{"toolsListChanged":true,"resourceSubscriptions":["test://x"]}`)
	promptsL := open(42, `{"promptsListChanged":true}`)
	for _, tt := range []struct {
		s    *recStream
		id   string
		want string
	}{
		{toolsL, "41", `{"_meta":{"io.modelcontextprotocol/subscriptionId":41},"notifications":{"toolsListChanged":true,"resourceSubscriptions":["test://x"]}}`},
		{promptsL, "42", `{"_meta":{"io.modelcontextprotocol/subscriptionId":42},"notifications":{"promptsListChanged":true}}`},
	} {
		ack := tt.s.next(t)
		if ack.Method != mcp.NotificationSubscriptionsAcknowledged || string(ack.Params) != tt.want {
			t.Errorf("listen %s: first message %s %s, want ack %s", tt.id, ack.Method, ack.Params, tt.want)
		}
	}

	mu.Lock()
	tools = `[{"name":"one"},{"name":"two"}]`
	mu.Unlock()
	r.UpstreamMessage("a", jsonrpc.NewNotification(mcp.NotificationToolsListChanged, nil))
	if m := toolsL.next(t); m.Method != mcp.NotificationToolsListChanged ||
		string(m.Params) != `{"_meta":{"io.modelcontextprotocol/subscriptionId":41}}` {
		t.Errorf("tools listen got %s %s", m.Method, m.Params)
	}
	// An announcement without a change of the aggregate is not passed on.
	r.UpstreamMessage("a", jsonrpc.NewNotification(mcp.NotificationToolsListChanged, nil))
	mu.Lock()
	prompts = `[{"name":"p"},{"name":"q"}]`
	mu.Unlock()
	r.UpstreamMessage("a", jsonrpc.NewNotification(mcp.NotificationPromptsListChanged, nil))
	// The prompts listen's next message is the prompts change: the tools
	// change before it was filtered out.
	if m := promptsL.next(t); m.Method != mcp.NotificationPromptsListChanged ||
		string(m.Params) != `{"_meta":{"io.modelcontextprotocol/subscriptionId":42}}` {
		t.Errorf("prompts listen got %s %s, want only prompts list_changed", m.Method, m.Params)
	}

	cancel()
	wg.Wait()
	r.wg.Wait() // refreshes done: nothing more is sent
	if n := len(toolsL.msgs); n != 2 {
		t.Errorf("tools listen got %d messages, want ack + one change", n)
	}
	r.mu.Lock()
	left := len(r.listens)
	r.mu.Unlock()
	if left != 0 {
		t.Errorf("%d listens registered after their clients left", left)
	}
}
