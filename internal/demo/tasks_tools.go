package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// The task fixtures of the conformance suite's tasks-* scenarios
// (docs/protocol-eras.md §5, §6), listed in the modern era only. Each says
// whether it runs as a task: "forbidden" (always synchronous), "optional"
// (a task when the request declares the tasks extension in its _meta
// clientCapabilities, else synchronous [TASKS §For MCP servers "Check
// client capabilities"]), "required" (-32021 without the extension).
//
// Their task support is not advertised in tools/list: a session-era client
// reading 2025-11-25's execution.taskSupport there would expect the core
// tasks the extension replaced; the gateway (and the suite) learn it from
// the -32021 answer instead.

// Task support of a task fixture.
const (
	taskForbidden = "forbidden"
	taskOptional  = "optional"
	taskRequired  = "required"
)

// taskTool is a task fixture.
type taskTool struct {
	tool    *tool
	support string
	// prepare, when set, runs in the request before a task is created
	// (its client input through MRTR rounds) and returns the task's work;
	// nil means run is the work.
	prepare func(ctx context.Context, in asker, args json.RawMessage) (taskRun, *toolResult)
	run     func(ctx context.Context, in asker, args json.RawMessage) (*toolResult, *jsonrpc.Error)
}

var taskTools = []*taskTool{
	{support: taskForbidden, tool: &tool{name: "greet", description: "Greets someone synchronously (never a task)",
		inputSchema: json.RawMessage(`{"type":"object","properties":{"name":{"type":"string"}}}`)}, run: runGreet},
	{support: taskOptional, tool: &tool{name: "slow_compute", description: "Sleeps for the given seconds, then answers; a task when the client accepts tasks",
		inputSchema: json.RawMessage(`{"type":"object","properties":{"seconds":{"type":"number"},"label":{"type":"string"}}}`)}, run: runSlowCompute},
	{support: taskRequired, tool: &tool{name: "failing_job", description: "A task that reports a tool error after about a second",
		inputSchema: emptyObjectSchema}, run: runFailingJob},
	{support: taskOptional, tool: &tool{name: "protocol_error_job", description: "A task that fails with a protocol error",
		inputSchema: emptyObjectSchema}, run: runProtocolErrorJob},
	{support: taskOptional, tool: &tool{name: "confirm_delete", description: "Asks for confirmation (elicitation), then pretends to delete the file",
		inputSchema: json.RawMessage(`{"type":"object","properties":{"filename":{"type":"string"}}}`)}, run: runConfirmDelete},
	{support: taskOptional, tool: &tool{name: "multi_input", description: "Asks two questions at once (elicitation), then answers with both",
		inputSchema: emptyObjectSchema}, run: runMultiInput},
	{support: taskRequired, tool: &tool{name: "test_tool_with_task", description: "Asks for user_name (multi-round-trip), then finishes as a task",
		inputSchema: emptyObjectSchema}, prepare: prepareToolWithTask},
}

func init() {
	for _, tt := range taskTools {
		tt.tool.run = tt.runSyncTool
	}
}

// modernTaskTools are the fixtures' listings, in order.
func modernTaskTools() []*tool {
	out := make([]*tool, len(taskTools))
	for i, tt := range taskTools {
		out[i] = tt.tool
	}
	return out
}

func lookupTaskTool(name string) *taskTool {
	for _, tt := range taskTools {
		if tt.tool.name == name {
			return tt
		}
	}
	return nil
}

// runSyncTool is the fixture as a plain tool (handleToolsCall).
func (tt *taskTool) runSyncTool(ctx context.Context, s *server, _ *request, args json.RawMessage) *toolResult {
	res, e := tt.runSync(ctx, syncAsker{s}, args)
	if e != nil {
		return errorResult(e.Message)
	}
	return res
}

func (tt *taskTool) runSync(ctx context.Context, in asker, args json.RawMessage) (*toolResult, *jsonrpc.Error) {
	if tt.prepare == nil {
		return tt.run(ctx, in, args)
	}
	run, res := tt.prepare(ctx, in, args)
	if run == nil {
		return res, nil
	}
	return run(ctx, in)
}

// handleModernToolsCall is tools/call in the modern era: the task
// fixtures by their task support, every other tool as in the session era.
func handleModernToolsCall(ctx context.Context, s *server, r *request) (any, *jsonrpc.Error) {
	var p struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
		Meta      struct {
			Caps json.RawMessage `json:"io.modelcontextprotocol/clientCapabilities"`
		} `json:"_meta"`
	}
	if json.Unmarshal(r.params, &p) != nil {
		return handleToolsCall(ctx, s, r) // reports the bad params
	}
	tt := lookupTaskTool(p.Name)
	if tt == nil {
		return handleToolsCall(ctx, s, r)
	}
	args := p.Arguments
	switch {
	case len(args) == 0 || string(args) == "null":
		args = emptyObject
	case args[0] != '{':
		return nil, invalidParams("arguments must be an object")
	}
	ext := mcp.DeclaresExtension(p.Meta.Caps, mcp.ExtensionTasks)
	switch {
	case !ext && tt.support == taskRequired:
		// [TASKS "Required Capabilities"]: a request the server cannot serve
		// without a task is refused with -32021 naming the extension.
		return nil, missingTasks()
	case !ext || tt.support == taskForbidden:
		return tt.runSync(ctx, syncAsker{s}, args)
	}
	run := func(ctx context.Context, in asker) (*toolResult, *jsonrpc.Error) { return tt.run(ctx, in, args) }
	if tt.prepare != nil {
		var res *toolResult
		if run, res = tt.prepare(ctx, syncAsker{s}, args); run == nil {
			return res, nil // still gathering input (an InputRequiredResult), or refused
		}
	}
	s.modern.tasks.watch(s.notifyTaskListens) // tasks_notify.go
	return s.modern.tasks.start(run)
}

// syncAsker asks through the request's own round: each request becomes an
// input request of an InputRequiredResult under its key (mrtr_modern.go).
type syncAsker struct{ s *server }

func (a syncAsker) ask(ctx context.Context, reqs map[string]inputRequest) (map[string]json.RawMessage, error) {
	keys := make([]string, 0, len(reqs))
	for k := range reqs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]json.RawMessage, len(reqs))
	var first error
	for _, k := range keys { // every one, so that one round asks for all
		params := map[string]json.RawMessage{}
		_ = json.Unmarshal(reqs[k].Params, &params)
		params["_meta"] = jsonrpc.MustRaw(map[string]string{mcp.MetaInputKey: k})
		raw, err := a.s.requestClient(ctx, reqs[k].Method, params)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		out[k] = raw
	}
	return out, first
}

// elicitRequest is an elicitation/create input request for a form.
func elicitRequest(message string, schema string) inputRequest {
	return inputRequest{Method: mcp.MethodElicitationCreate, Params: jsonrpc.MustRaw(map[string]any{
		"mode": "form", "message": message, "requestedSchema": json.RawMessage(schema)})}
}

// elicitAnswer reads an ElicitResult: its action and content.
func elicitAnswer(raw json.RawMessage) (string, map[string]any) {
	var res struct {
		Action  string         `json:"action"`
		Content map[string]any `json:"content"`
	}
	_ = json.Unmarshal(raw, &res)
	return res.Action, res.Content
}

func runGreet(_ context.Context, _ asker, args json.RawMessage) (*toolResult, *jsonrpc.Error) {
	var a struct {
		Name string `json:"name"`
	}
	if res := decodeArgs(args, &a); res != nil {
		return res, nil
	}
	if a.Name == "" {
		a.Name = "World"
	}
	return textResult("Hello, " + a.Name + "!"), nil
}

// maxComputeSeconds bounds slow_compute.
const maxComputeSeconds = 300

func runSlowCompute(ctx context.Context, _ asker, args json.RawMessage) (*toolResult, *jsonrpc.Error) {
	var a struct {
		Seconds float64 `json:"seconds"`
		Label   string  `json:"label"`
	}
	if res := decodeArgs(args, &a); res != nil {
		return res, nil
	}
	if a.Seconds < 0 || a.Seconds > maxComputeSeconds {
		return errorResult("Invalid arguments: seconds must be between 0 and " + strconv.Itoa(maxComputeSeconds)), nil
	}
	if !sleep(ctx, time.Duration(a.Seconds*float64(time.Second))) {
		return nil, nil
	}
	text := fmt.Sprintf("Computed after %gs", a.Seconds)
	if a.Label != "" {
		text += " (" + a.Label + ")"
	}
	return textResult(text), nil
}

func runFailingJob(ctx context.Context, _ asker, _ json.RawMessage) (*toolResult, *jsonrpc.Error) {
	if !sleep(ctx, time.Second) {
		return nil, nil
	}
	// A tool error: the task completes with isError [TASKS §Task lifecycle].
	return errorResult("The job failed: the input data is invalid"), nil
}

func runProtocolErrorJob(ctx context.Context, _ asker, _ json.RawMessage) (*toolResult, *jsonrpc.Error) {
	if !sleep(ctx, 300*time.Millisecond) {
		return nil, nil
	}
	// A protocol error: the task fails with it.
	return nil, jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error: the job crashed")
}

func runConfirmDelete(ctx context.Context, in asker, args json.RawMessage) (*toolResult, *jsonrpc.Error) {
	var a struct {
		Filename string `json:"filename"`
	}
	if res := decodeArgs(args, &a); res != nil {
		return res, nil
	}
	got, err := in.ask(ctx, map[string]inputRequest{"confirm": elicitRequest("Delete "+a.Filename+"?",
		`{"type":"object","properties":{"confirm":{"type":"boolean"}},"required":["confirm"]}`)})
	if err != nil {
		return askFailed(ctx, err), nil
	}
	if action, content := elicitAnswer(got["confirm"]); action == "accept" && content["confirm"] == true {
		return textResult("Deleted " + a.Filename), nil
	}
	return textResult("Kept " + a.Filename), nil
}

func runMultiInput(ctx context.Context, in asker, _ json.RawMessage) (*toolResult, *jsonrpc.Error) {
	got, err := in.ask(ctx, map[string]inputRequest{
		"name":    elicitRequest("What is your name?", `{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}`),
		"confirm": elicitRequest("Shall I go on?", `{"type":"object","properties":{"confirm":{"type":"boolean"}},"required":["confirm"]}`),
	})
	if err != nil {
		return askFailed(ctx, err), nil
	}
	_, name := elicitAnswer(got["name"])
	_, confirm := elicitAnswer(got["confirm"])
	return textResult(fmt.Sprintf("name=%v, confirm=%v", name["name"], confirm["confirm"])), nil
}

// prepareToolWithTask asks for user_name in the request (MRTR), and only
// then makes the work a task [the suite's tasks-mrtr-composition: no
// taskId before the last round, no requestState on the task].
func prepareToolWithTask(ctx context.Context, in asker, _ json.RawMessage) (taskRun, *toolResult) {
	got, err := in.ask(ctx, map[string]inputRequest{"user_name": elicitRequest("What is your name?",
		`{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}`)})
	if err != nil {
		return nil, askFailed(ctx, err)
	}
	_, content := elicitAnswer(got["user_name"])
	name, _ := content["name"].(string)
	return func(ctx context.Context, _ asker) (*toolResult, *jsonrpc.Error) {
		if !sleep(ctx, 300*time.Millisecond) {
			return nil, nil
		}
		return textResult("Hello, " + name + "! (asked before the task was created)"), nil
	}, nil
}
