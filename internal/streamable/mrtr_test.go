package streamable

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/mcpsession"
	"github.com/mcpgate/mcpgate/internal/mcpsession/mcpsessiontest"
	"github.com/mcpgate/mcpgate/internal/relay"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// elicitConn is a session-era upstream with one tool, "ask", that asks the
// client for its name with elicitation/create and greets it.
type elicitConn struct {
	r *relay.Relay

	mu      sync.Mutex
	next    int
	waiting map[string]chan *jsonrpc.Message
}

func (e *elicitConn) Name() string          { return "up" }
func (e *elicitConn) State() upstream.State { return upstream.StateReady }
func (e *elicitConn) Info() *upstream.Info {
	return &upstream.Info{ProtocolVersion: mcp.Version20250618, Capabilities: upstream.Capabilities{Tools: &upstream.ListCap{}}}
}
func (e *elicitConn) Notify(context.Context, string, json.RawMessage) error { return nil }

func (e *elicitConn) Respond(_ context.Context, msg *jsonrpc.Message) error {
	e.mu.Lock()
	ch := e.waiting[string(msg.ID)]
	e.mu.Unlock()
	if ch != nil {
		ch <- msg
	}
	return nil
}

func (e *elicitConn) Call(ctx context.Context, method string, _ json.RawMessage) (*jsonrpc.Message, error) {
	if method == mcp.MethodToolsList {
		return jsonrpc.NewResponse(json.RawMessage("1"), json.RawMessage(`{"tools":[{"name":"ask","inputSchema":{"type":"object"}}]}`)), nil
	}
	if method != mcp.MethodToolsCall {
		return jsonrpc.NewResponse(json.RawMessage("1"), json.RawMessage(`{}`)), nil
	}
	ch := make(chan *jsonrpc.Message, 1)
	e.mu.Lock()
	e.next++
	id := strconv.Itoa(e.next)
	e.waiting[id] = ch
	e.mu.Unlock()
	e.r.UpstreamMessage("up", jsonrpc.NewRequest(json.RawMessage(id), mcp.MethodElicitationCreate,
		json.RawMessage(`{"message":"Name?","requestedSchema":{"type":"object","properties":{"name":{"type":"string"}}},`+
			`"_meta":{"`+mcp.MetaInputKey+`":"user_name"}}`)))
	select {
	case m := <-ch:
		var res struct {
			Content struct {
				Name string `json:"name"`
			} `json:"content"`
		}
		_ = json.Unmarshal(m.Result, &res)
		return jsonrpc.NewResponse(json.RawMessage("1"), jsonrpc.MustRaw(map[string]any{
			"content": []any{map[string]string{"type": "text", "text": "Hello, " + res.Content.Name}}})), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// newMRTREnv is the transport in front of a real relay and elicitConn.
func newMRTREnv(t *testing.T, opts relay.Options) *httptest.Server {
	t.Helper()
	rl := relay.New(opts)
	up := &elicitConn{r: rl, waiting: map[string]chan *jsonrpc.Message{}}
	rl.Register(relay.Upstream{Conn: up, CallTimeout: time.Minute})
	rl.Refresh(t.Context())
	t.Cleanup(rl.Close)
	return mcpsessiontest.NewEnv(t, &mcpsessiontest.EnvOptions{Core: rl},
		func(hub *mcpsession.Hub) http.Handler { return New(hub, &Options{}) }).Srv
}

// TestMRTRHTTP drives the multi-round-trip translation over HTTP: an
// InputRequiredResult as plain JSON, the retry, -32021 on 400, and the
// park limit on 429 (docs/protocol-eras.md §4.3 A).
func TestMRTRHTTP(t *testing.T) {
	srv := newMRTREnv(t, relay.Options{MRTR: relay.MRTROptions{MaxParked: 2, MaxParkedPerPrincipal: 1}})
	post := func(user, caps, extra string) (int, http.Header, map[string]json.RawMessage) {
		t.Helper()
		body := `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"ask","arguments":{},` + extra + meta(caps, "") + `}}`
		resp := send(t.Context(), t, srv, http.MethodPost, with(modern(mcp.MethodToolsCall), "Mcp-Name", "ask", "X-Test-User", user), body)
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type %q, want application/json", ct)
		}
		var msg map[string]json.RawMessage
		if err := json.NewDecoder(resp.Body).Decode(&msg); err != nil {
			t.Fatal(err)
		}
		if string(msg["id"]) != "5" {
			t.Errorf("id %s, want 5", msg["id"])
		}
		return resp.StatusCode, resp.Header, msg
	}
	const all = `{"elicitation":{},"sampling":{}}`

	status, hdr, msg := post("alice", all, "")
	var irr struct {
		ResultType    string                     `json:"resultType"`
		InputRequests map[string]json.RawMessage `json:"inputRequests"`
		RequestState  string                     `json:"requestState"`
	}
	if err := json.Unmarshal(msg["result"], &irr); err != nil || status != 200 || irr.ResultType != "input_required" ||
		irr.InputRequests["user_name"] == nil || irr.RequestState == "" || hdr.Get("Mcp-Session-Id") != "" {
		t.Fatalf("round 1: %d %s, want 200 and an InputRequiredResult keyed user_name", status, msg["result"])
	}
	status, _, msg = post("bob", all, "")
	if status != 200 || !strings.Contains(string(msg["result"]), `"input_required"`) {
		t.Fatalf("bob's round 1: %d %s", status, msg["result"])
	}
	status, hdr, msg = post("alice", all, "")
	if status != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" || msg["error"] == nil {
		t.Errorf("alice's second parked call: %d %s %s, want 429 with Retry-After and a JSON-RPC error", status, hdr, msg["error"])
	}

	retry := `"inputResponses":{"user_name":{"action":"accept","content":{"name":"Alice"}}},"requestState":` + strconv.Quote(irr.RequestState) + `,`
	status, _, msg = post("alice", all, retry)
	if status != 200 || string(msg["result"]) != `{"resultType":"complete","content":[{"text":"Hello, Alice","type":"text"}]}` {
		t.Errorf("retry: %d %s", status, msg["result"])
	}
	status, _, msg = post("alice", all, strings.Replace(retry, `"mcpgate1.`, `"mcpgate1.x`, 1))
	if !strings.Contains(string(msg["error"]), `"code":-32602`) {
		t.Errorf("tampered retry: %d %s, want -32602", status, msg["error"])
	}
	status, _, msg = post("carol", `{"sampling":{}}`, "")
	if status != 400 || !strings.Contains(string(msg["error"]), `"requiredCapabilities":{"elicitation":{}}`) {
		t.Errorf("undeclared capability: %d %s, want 400 -32021 requiredCapabilities elicitation", status, msg["error"])
	}
}
