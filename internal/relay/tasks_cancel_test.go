package relay

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/principal"
)

// Results of the scripted modern upstream below.
const (
	askResult    = `{"resultType":"input_required","inputRequests":{"r1":{"method":"elicitation/create","params":{"message":"ok?"}}},"requestState":"s1"}`
	shedResult   = `{"resultType":"input_required"}`
	taskResult   = `{"resultType":"task","taskId":"t1","status":"working","pollIntervalMs":50}`
	workingTask  = `{"resultType":"complete","taskId":"t1","status":"working","pollIntervalMs":5000}`
	inputTask    = `{"resultType":"complete","taskId":"t1","status":"input_required","inputRequests":{"confirm":{"method":"elicitation/create","params":{"message":"ok?"}}}}`
	blockForever = "block"
)

// cancelScript is what a modern upstream answers, by method, call after
// call (the last entry repeats); blockForever blocks until the call is
// cancelled. requireTasks refuses tools/call with -32021 until the
// extension is declared.
type cancelScript struct {
	calls        []string
	gets         []string
	updates      []string
	requireTasks bool
}

// TestSessionClientCancelStates: a session client's notifications/cancelled
// for a call the gateway drives — through MRTR rounds (docs/protocol-eras.md
// §4.3 B) or as a task client (§4.6) — reaches the upstream in every state:
// a call in flight has its context cancelled (the Conn sends
// notifications/cancelled, or closes the POST of an HTTP upstream), and a
// task that exists is cancelled with tasks/cancel [TASKS §Task
// Cancellation: notifications/cancelled MUST NOT be used for tasks].
func TestSessionClientCancelStates(t *testing.T) {
	tests := []struct {
		name   string
		script cancelScript
		// when: "upstream" cancels once a blocking upstream call is reached,
		// "client" once the client is asked for input, "poll" once the
		// first tasks/get was answered.
		when            string
		wantCallAborted string // method whose in-flight call must see its context end; "" none
		wantTasksCancel bool
		wantCallsAfter  int // upstream calls after the cancellation besides tasks/cancel
	}{
		{name: "mrtr: first round in flight", script: cancelScript{calls: []string{blockForever}},
			when: "upstream", wantCallAborted: mcp.MethodToolsCall},
		{name: "mrtr: waiting for the client's input", script: cancelScript{calls: []string{askResult}},
			when: "client"},
		{name: "mrtr: retry in flight", script: cancelScript{calls: []string{askResult, blockForever}},
			when: "upstream", wantCallAborted: mcp.MethodToolsCall},
		{name: "mrtr: load-shedding backoff", script: cancelScript{calls: []string{shedResult}},
			when: "shed"},
		{name: "tasks: declaring retry in flight", script: cancelScript{requireTasks: true, calls: []string{blockForever}},
			when: "upstream", wantCallAborted: mcp.MethodToolsCall},
		{name: "tasks: working, between polls", script: cancelScript{requireTasks: true, calls: []string{taskResult}, gets: []string{workingTask}},
			when: "poll", wantTasksCancel: true},
		{name: "tasks: tasks/get in flight", script: cancelScript{requireTasks: true, calls: []string{taskResult}, gets: []string{blockForever}},
			when: "upstream", wantCallAborted: mcp.MethodTasksGet, wantTasksCancel: true},
		{name: "tasks: input asked of the client", script: cancelScript{requireTasks: true, calls: []string{taskResult}, gets: []string{inputTask}},
			when: "client", wantTasksCancel: true},
		{name: "tasks: tasks/update in flight", script: cancelScript{requireTasks: true, calls: []string{taskResult}, gets: []string{inputTask}, updates: []string{blockForever}},
			when: "upstream", wantCallAborted: mcp.MethodTasksUpdate, wantTasksCancel: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				mu        sync.Mutex
				seen      = map[string]int{}
				after     []string // methods called after the cancellation
				cancelled atomic.Bool
				aborted   = make(chan string, 4)
				reached   = make(chan string, 16)
			)
			next := func(list []string, n int) string {
				if n >= len(list) {
					n = len(list) - 1
				}
				return list[n]
			}
			m := &fakeConn{name: "m", info: tasksInfo()}
			m.serve = func(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, *jsonrpc.Error) {
				if method == mcp.MethodToolsList {
					return json.RawMessage(`{"tools":[{"name":"job"}]}`), nil
				}
				mu.Lock()
				n := seen[method]
				seen[method]++
				if cancelled.Load() && method != mcp.MethodTasksCancel {
					after = append(after, method)
				}
				mu.Unlock()
				var res string
				switch method {
				case mcp.MethodToolsCall:
					if tt.script.requireTasks && !strings.Contains(string(params), mcp.ExtensionTasks) {
						return nil, &jsonrpc.Error{Code: mcp.CodeMissingClientCapability, Message: "tasks required", Data: mcp.MissingTasksData}
					}
					res = next(tt.script.calls, n)
				case mcp.MethodTasksGet:
					res = next(tt.script.gets, n)
				case mcp.MethodTasksUpdate:
					res = next(tt.script.updates, n)
				default:
					return json.RawMessage(`{}`), nil
				}
				if res == blockForever {
					reached <- method
					<-ctx.Done()
					aborted <- method
					return nil, nil // the call returns ctx.Err(), as a Conn's does
				}
				if method == mcp.MethodTasksGet {
					reached <- "poll"
				}
				if res == shedResult {
					reached <- "shed"
				}
				return json.RawMessage(res), nil
			}
			r := newTestRelay(t, Options{}, m)
			c := &Client{SessionID: "s1", ProtocolVersion: mcp.Version20251125, Principal: principal.Anonymous,
				Capabilities: ClientCapabilities{Elicitation: true, Raw: json.RawMessage(`{"elicitation":{}}`)}}
			r.Attach(c)
			out := newRecStream()
			// The client answers every input request except in the
			// "client" state, where it is still thinking when it cancels.
			asked := make(chan struct{}, 4)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Go(func() {
				for {
					select {
					case msg := <-out.ch:
						if !msg.IsRequest() {
							continue
						}
						asked <- struct{}{}
						if tt.when != "client" {
							r.HandleResponse(context.Background(), c, jsonrpc.NewResponse(msg.ID, json.RawMessage(`{"action":"accept"}`)))
						}
					case <-stop:
						return
					}
				}
			})
			defer wg.Wait()
			defer close(stop)
			done := make(chan *jsonrpc.Message, 1)
			go func() {
				done <- r.HandleRequest(context.Background(), c, request(5, mcp.MethodToolsCall, `{"name":"job"}`), out)
			}()
			deadline := time.After(5 * time.Second)
			for waiting := true; waiting; {
				select {
				case what := <-reached:
					waiting = !(tt.when == "upstream" && (what == tt.wantCallAborted) || tt.when == what)
				case <-asked:
					waiting = tt.when != "client"
				case <-deadline:
					t.Fatalf("the call never reached the %q state", tt.when)
				}
			}
			cancelled.Store(true)
			r.HandleNotification(context.Background(), c, jsonrpc.NewNotification(mcp.NotificationCancelled, json.RawMessage(`{"requestId":5}`)))
			select {
			case resp := <-done:
				if resp != nil {
					t.Errorf("cancelled call answered %s", jsonrpc.Encode(resp))
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the cancelled call did not return")
			}
			if tt.wantCallAborted != "" {
				select {
				case got := <-aborted:
					if got != tt.wantCallAborted {
						t.Errorf("aborted upstream call %s, want %s", got, tt.wantCallAborted)
					}
				default:
					t.Errorf("the %s in flight was not cancelled upstream", tt.wantCallAborted)
				}
			}
			mu.Lock()
			gotCancel := seen[mcp.MethodTasksCancel]
			gotAfter := append([]string(nil), after...)
			mu.Unlock()
			if tt.wantTasksCancel && gotCancel != 1 || !tt.wantTasksCancel && gotCancel != 0 {
				t.Errorf("tasks/cancel sent %d times, want it %v", gotCancel, tt.wantTasksCancel)
			}
			if len(gotAfter) != tt.wantCallsAfter {
				t.Errorf("upstream calls after the cancellation: %v", gotAfter)
			}
			r.mu.Lock()
			pending := len(r.serverReqs)
			r.mu.Unlock()
			if pending != 0 {
				t.Errorf("%d server→client requests left pending", pending)
			}
		})
	}
}
