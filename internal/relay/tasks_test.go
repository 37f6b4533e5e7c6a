package relay

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// tasksInfo is a modern upstream that offers the tasks extension.
func tasksInfo() *upstream.Info {
	info := modernInfo()
	info.Capabilities.Extensions = json.RawMessage(`{"` + mcp.ExtensionTasks + `":{}}`)
	return info
}

// taskUpstream answers tools/call with a task named after the upstream,
// and tasks/* with what it was asked about.
func taskUpstream(name string) *fakeConn {
	return &fakeConn{name: name, info: tasksInfo(), serve: func(_ context.Context, method string, params json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
		switch method {
		case "tools/list":
			return json.RawMessage(`{"tools":[{"name":"job"}]}`), nil
		case "tools/call":
			return json.RawMessage(`{"resultType":"task","taskId":"up-` + name + `","status":"working","ttlMs":60000,"pollIntervalMs":200}`), nil
		case mcp.MethodTasksGet:
			id, _, _ := stringMember(params, "taskId")
			return jsonrpc.MustRaw(map[string]string{"taskId": id, "status": "working", "on": name}), nil
		case mcp.MethodTasksUpdate, mcp.MethodTasksCancel:
			return json.RawMessage(`{}`), nil
		}
		return json.RawMessage(`{}`), nil
	}}
}

// taskMeta is a stateless request's _meta, declaring the tasks extension
// or not.
func taskMeta(declare bool) string {
	caps := `{}`
	if declare {
		caps = `{"extensions":{"` + mcp.ExtensionTasks + `":{}}}`
	}
	return `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":` + caps + `}`
}

func statelessTaskClient(p principal.Principal, declare bool) *Client {
	caps := json.RawMessage(`{}`)
	if declare {
		caps = json.RawMessage(`{"extensions":{"` + mcp.ExtensionTasks + `":{}}}`)
	}
	return &Client{SessionID: "stateless-" + p.Subject, Stateless: true, Principal: p, ProtocolVersion: mcp.Version20260728,
		Capabilities: ClientCapabilities{Raw: caps}}
}

// TestStatelessTasks: task ids are wrapped in gateway tokens, tasks/* are
// routed by opening them, and tokens that do not open, were altered, or
// belong to another principal or gateway process are refused alike.
func TestStatelessTasks(t *testing.T) {
	m, n := taskUpstream("m"), taskUpstream("n")
	r := newTestRelay(t, Options{}, m, n)
	alice := principal.Principal{Issuer: "static", Subject: "alice"}
	bob := principal.Principal{Issuer: "static", Subject: "bob"}
	ctx := context.Background()

	create := func(tool string) string {
		t.Helper()
		resp := r.HandleRequest(ctx, statelessTaskClient(alice, true), request(1, "tools/call", `{"name":"`+tool+`",`+taskMeta(true)+`}`), newRecStream())
		if resp == nil || resp.Error != nil {
			t.Fatalf("tools/call %s: %v", tool, resp)
		}
		var res struct {
			TaskID         string `json:"taskId"`
			Status         string `json:"status"`
			PollIntervalMs int    `json:"pollIntervalMs"`
		}
		if err := json.Unmarshal(resp.Result, &res); err != nil || !strings.HasPrefix(res.TaskID, taskTokenPrefix) ||
			res.Status != "working" || res.PollIntervalMs != 200 || strings.Contains(string(resp.Result), "up-") {
			t.Fatalf("CreateTaskResult %s: want a wrapped taskId, other fields kept", resp.Result)
		}
		return res.TaskID
	}
	tokM, tokN := create("m__job"), create("n__job")

	// A token of another gateway process: same key, another replica id.
	if err := r.mrtrInit(); err != nil {
		t.Fatal(err)
	}
	otherReplica := r.mrtr.sealer.sealTask(&taskClaims{replica: [8]byte{1}, principal: principalDigest(alice.Key()), upstream: "m", taskID: "up-m"})
	// A token for an upstream that does not exist.
	noUpstream := r.mrtr.sealer.sealTask(&taskClaims{replica: r.mrtr.replica, principal: principalDigest(alice.Key()), upstream: "gone", taskID: "x"})
	tampered := []byte(tokM)
	tampered[len(tampered)-5] ^= 1

	tests := []struct {
		name     string
		client   *Client
		method   string
		token    string
		wantCode int
		wantUp   *fakeConn // the upstream that must get the call
		wantID   string    // the upstream task id it must get
	}{
		{"get routed to m", statelessTaskClient(alice, true), mcp.MethodTasksGet, tokM, 0, m, "up-m"},
		{"get routed to n", statelessTaskClient(alice, true), mcp.MethodTasksGet, tokN, 0, n, "up-n"},
		{"update routed", statelessTaskClient(alice, true), mcp.MethodTasksUpdate, tokM, 0, m, "up-m"},
		{"cancel routed", statelessTaskClient(alice, true), mcp.MethodTasksCancel, tokN, 0, n, "up-n"},
		{"foreign principal", statelessTaskClient(bob, true), mcp.MethodTasksGet, tokM, jsonrpc.CodeInvalidParams, nil, ""},
		{"tampered token", statelessTaskClient(alice, true), mcp.MethodTasksGet, string(tampered), jsonrpc.CodeInvalidParams, nil, ""},
		{"not a token", statelessTaskClient(alice, true), mcp.MethodTasksGet, "up-m", jsonrpc.CodeInvalidParams, nil, ""},
		{"another gateway process", statelessTaskClient(alice, true), mcp.MethodTasksGet, otherReplica, jsonrpc.CodeInvalidParams, nil, ""},
		{"unknown upstream", statelessTaskClient(alice, true), mcp.MethodTasksCancel, noUpstream, jsonrpc.CodeInvalidParams, nil, ""},
		{"extension not declared", statelessTaskClient(alice, false), mcp.MethodTasksGet, tokM, mcp.CodeMissingClientCapability, nil, ""},
		{"tasks/result removed", statelessTaskClient(alice, true), mcp.MethodTasksResult, tokM, jsonrpc.CodeMethodNotFound, nil, ""},
		{"tasks/list removed", statelessTaskClient(alice, true), mcp.MethodTasksList, tokM, jsonrpc.CodeMethodNotFound, nil, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := map[*fakeConn]int{m: callCount(m), n: callCount(n)}
			params := `{"taskId":` + string(jsonrpc.AppendString(nil, tt.token)) + `,"inputResponses":{},` + taskMeta(true) + `}`
			resp := r.HandleRequest(ctx, tt.client, request(10+i, tt.method, params), newRecStream())
			if tt.wantCode != 0 {
				if resp.Error == nil || resp.Error.Code != tt.wantCode {
					t.Fatalf("got %s %v, want error %d", resp.Result, resp.Error, tt.wantCode)
				}
				if tt.wantCode == mcp.CodeMissingClientCapability && string(resp.Error.Data) != string(mcp.MissingTasksData) {
					t.Errorf("data %s", resp.Error.Data)
				}
				if callCount(m) != before[m] || callCount(n) != before[n] {
					t.Error("a refused request reached an upstream")
				}
				return
			}
			if resp.Error != nil {
				t.Fatalf("error %v", resp.Error)
			}
			got := tt.wantUp.lastCall()
			if callCount(tt.wantUp) != before[tt.wantUp]+1 || got.method != tt.method {
				t.Fatalf("upstream %s got %s, want %s", tt.wantUp.name, got.method, tt.method)
			}
			if id, _, _ := stringMember(got.params, "taskId"); id != tt.wantID || !strings.Contains(string(got.params), `"inputResponses":{}`) {
				t.Errorf("upstream params %s, want taskId %s and the rest kept", got.params, tt.wantID)
			}
			if tt.method == mcp.MethodTasksGet {
				if id, _, _ := stringMember(resp.Result, "taskId"); id != tt.token {
					t.Errorf("tasks/get result %s: taskId not rewritten back to the token", resp.Result)
				}
			}
			if !strings.Contains(string(resp.Result), `"resultType":"complete"`) {
				t.Errorf("result %s lacks resultType", resp.Result)
			}
		})
	}

	t.Run("discover advertises the extension, never a tasks slot", func(t *testing.T) {
		resp := r.HandleRequest(ctx, statelessTaskClient(alice, false), request(50, mcp.MethodServerDiscover, `{`+taskMeta(false)+`}`), newRecStream())
		var res struct {
			Capabilities map[string]json.RawMessage `json:"capabilities"`
		}
		if err := json.Unmarshal(resp.Result, &res); err != nil || !mcp.DeclaresExtension(jsonrpc.MustRaw(res.Capabilities), mcp.ExtensionTasks) || res.Capabilities["tasks"] != nil {
			t.Fatalf("discover %s", resp.Result)
		}
	})
}

// TestStatelessTasksNotOffered: without an upstream that offers the
// extension, tasks/* do not exist and discover does not mention them.
func TestStatelessTasksNotOffered(t *testing.T) {
	m := &fakeConn{name: "m", info: modernInfo(), serve: listServer(`[{"name":"echo"}]`, `[]`, `[]`)}
	r := newTestRelay(t, Options{}, m)
	c := statelessTaskClient(principal.Anonymous, true)
	if resp := r.HandleRequest(context.Background(), c, request(1, mcp.MethodTasksGet, `{"taskId":"x",`+taskMeta(true)+`}`), newRecStream()); resp.Error == nil || resp.Error.Code != jsonrpc.CodeMethodNotFound {
		t.Errorf("tasks/get: %v, want -32601", resp)
	}
	if resp := r.HandleRequest(context.Background(), c, request(2, mcp.MethodServerDiscover, `{`+taskMeta(true)+`}`), newRecStream()); strings.Contains(string(resp.Result), mcp.ExtensionTasks) {
		t.Errorf("discover %s advertises tasks", resp.Result)
	}
}

// FuzzTaskToken: nothing but a token this gateway sealed opens, and what
// opens is what was sealed.
func FuzzTaskToken(f *testing.F) {
	r := New(Options{})
	if err := r.mrtrInit(); err != nil {
		f.Fatal(err)
	}
	tok := r.mrtr.sealer.sealTask(&taskClaims{upstream: "m", taskID: "t1"})
	f.Add(tok)
	f.Add(taskTokenPrefix)
	f.Add(stateTokenPrefix + tok[len(taskTokenPrefix):])
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := r.mrtr.sealer.openTask(s)
		if ok && (s != tok || c.upstream != "m" || c.taskID != "t1") {
			t.Fatalf("%q opened as %+v", s, c)
		}
	})
}

// TestSessionClientTask: a session client's call of a task-required tool
// on a modern upstream is answered synchronously by the gateway acting as
// the task client: the extension is declared only after -32021, the task's
// input request reaches the session, its answer goes back by tasks/update,
// and cancellation reaches the upstream as tasks/cancel.
func TestSessionClientTask(t *testing.T) {
	tests := []struct {
		name       string
		final      string // what tasks/get says once the input is in
		cancel     bool   // the client cancels while the task works
		wantText   string
		wantCode   int
		wantCancel bool
	}{
		{"completed", `{"resultType":"complete","taskId":"t1","status":"completed","result":{"content":[{"type":"text","text":"done"}]}}`, false, `"text":"done"`, 0, false},
		{"failed", `{"resultType":"complete","taskId":"t1","status":"failed","error":{"code":-32603,"message":"crashed"}}`, false, "", jsonrpc.CodeInternalError, false},
		{"client cancels", `{"resultType":"complete","taskId":"t1","status":"working"}`, true, "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var answered, cancelled atomic.Bool
			updated := make(chan struct{})
			var once sync.Once
			m := &fakeConn{name: "m", info: tasksInfo(), serve: func(_ context.Context, method string, params json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
				declared := strings.Contains(string(params), `"extensions":{"`+mcp.ExtensionTasks+`":{}}`)
				switch method {
				case "tools/list":
					return json.RawMessage(`{"tools":[{"name":"job"}]}`), nil
				case "tools/call":
					if !declared {
						return nil, &jsonrpc.Error{Code: mcp.CodeMissingClientCapability, Message: "tasks required", Data: mcp.MissingTasksData}
					}
					return json.RawMessage(`{"resultType":"task","taskId":"t1","status":"working","pollIntervalMs":1}`), nil
				case mcp.MethodTasksGet:
					if !declared {
						return nil, &jsonrpc.Error{Code: mcp.CodeMissingClientCapability, Message: "tasks required", Data: mcp.MissingTasksData}
					}
					if !answered.Load() {
						return json.RawMessage(`{"resultType":"complete","taskId":"t1","status":"input_required","inputRequests":{"confirm":{"method":"elicitation/create","params":{"message":"ok?"}}}}`), nil
					}
					return json.RawMessage(tt.final), nil
				case mcp.MethodTasksUpdate:
					if strings.Contains(string(params), `"inputResponses":{"confirm":{"answered":"elicitation/create"}}`) && strings.Contains(string(params), `"taskId":"t1"`) {
						answered.Store(true)
						once.Do(func() { close(updated) })
					}
					return json.RawMessage(`{}`), nil
				case mcp.MethodTasksCancel:
					cancelled.Store(true)
					return json.RawMessage(`{}`), nil
				}
				return nil, jsonrpc.NewError(jsonrpc.CodeMethodNotFound, method)
			}}
			r := newTestRelay(t, Options{}, m)
			c := &Client{SessionID: "s1", ProtocolVersion: mcp.Version20251125, Principal: principal.Anonymous,
				Capabilities: ClientCapabilities{Elicitation: true, Raw: json.RawMessage(`{"elicitation":{}}`)}}
			r.Attach(c)
			ctx, cancel := context.WithCancel(context.Background())
			out, asked, stopAnswering := answering(ctx, r, c)
			defer stopAnswering()
			defer cancel() // before stopAnswering
			if tt.cancel {
				go func() { // the client cancels once the task is past its input
					select {
					case <-updated:
					case <-ctx.Done():
						return
					}
					r.HandleNotification(ctx, c, jsonrpc.NewNotification(mcp.NotificationCancelled, json.RawMessage(`{"requestId":1}`)))
				}()
			}
			resp := r.HandleRequest(ctx, c, request(1, "tools/call", `{"name":"job"}`), out)
			cancel()
			stopAnswering()
			switch {
			case tt.wantCancel:
				if resp != nil || !cancelled.Load() {
					t.Fatalf("response %v, tasks/cancel sent %v; want no response and tasks/cancel", resp, cancelled.Load())
				}
				return
			case tt.wantCode != 0:
				if resp == nil || resp.Error == nil || resp.Error.Code != tt.wantCode {
					t.Fatalf("response %v, want error %d", resp, tt.wantCode)
				}
			default:
				if resp == nil || resp.Error != nil || !strings.Contains(string(resp.Result), tt.wantText) || strings.Contains(string(resp.Result), "taskId") {
					t.Fatalf("response %v, want the task's result", resp)
				}
			}
			if asked.Load() != 1 || !answered.Load() || cancelled.Load() {
				t.Errorf("asked %d, answered %v, cancelled %v", asked.Load(), answered.Load(), cancelled.Load())
			}
			m.mu.Lock()
			first := m.calls[1] // after tools/list
			m.mu.Unlock()
			if first.method != "tools/call" || strings.Contains(string(first.params), mcp.ExtensionTasks) {
				t.Errorf("first call %s %s: the extension must not be declared before M requires it", first.method, first.params)
			}
		})
	}
}

func callCount(f *fakeConn) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// answering answers the session's server→client requests (answerAll) on
// a goroutine until ctx ends; stop waits for it.
func answering(ctx context.Context, r *Relay, c *Client) (out *recStream, asked *atomic.Int32, stop func()) {
	out, asked = newRecStream(), &atomic.Int32{}
	done := make(chan struct{})
	go func() { defer close(done); answerAll(ctx, r, c, out, asked) }()
	return out, asked, func() { <-done }
}
