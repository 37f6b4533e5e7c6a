package relay

import (
	"context"
	"encoding/json"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// Session client, modern upstream offering tasks: the gateway is the
// upstream's task client and answers the session synchronously
// (docs/protocol-eras.md §4.6 second bullet). [TASKS] is
// docs/extensions/tasks/overview.mdx (SEP-2663), "For MCP clients".
//
//	tools/call ─▶ M: -32021 requiredCapabilities.extensions.tasks
//	           ─▶ M again, the extension declared in _meta (tasks only when M
//	              requires them: a task-optional tool stays synchronous)
//	           ◀─ input_required rounds (modern_mrtr.go), then CreateTaskResult
//	poll tasks/get every pollIntervalMs:
//	  working        → wait
//	  input_required → inputRequests as server→client requests on the call's
//	                   stream (askClient), answers by tasks/update
//	  completed      → result is the call's answer; failed → its error
//	client cancels / call times out → tasks/cancel
//
// The loop runs on the session call's goroutine, bounded by the upstream's
// call timeout like any forwarded call.

// Polling bounds of the gateway as a task client.
const (
	defaultTaskPoll = 500 * time.Millisecond // when M gives no pollIntervalMs
	minTaskPoll     = 50 * time.Millisecond
	maxTaskPoll     = 5 * time.Second
	// taskCancelTimeout bounds the tasks/cancel sent after the client left.
	taskCancelTimeout = 5 * time.Second
)

// tasksRequired reports whether M refused a request because the tasks
// extension was not declared [TASKS "Required Capabilities"; B26 §_meta].
func tasksRequired(resp *jsonrpc.Message) bool {
	if resp.Error == nil || resp.Error.Code != mcp.CodeMissingClientCapability || len(resp.Error.Data) == 0 {
		return false
	}
	var d struct {
		Required json.RawMessage `json:"requiredCapabilities"`
	}
	return json.Unmarshal(resp.Error.Data, &d) == nil && mcp.DeclaresExtension(d.Required, mcp.ExtensionTasks)
}

// callDeclaringTasks calls M again with the tasks extension added to the
// request's _meta clientCapabilities, and returns those params for the
// rounds that follow.
func (r *Relay) callDeclaringTasks(ctx context.Context, conn upstream.Conn, method string, params json.RawMessage) (json.RawMessage, *jsonrpc.Message, error) {
	declared, err := withTasksDeclared(params)
	if err != nil {
		return params, jsonrpc.NewErrorResponse(nil, jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error")), nil
	}
	resp, err := conn.Call(ctx, method, declared)
	return declared, resp, err
}

// withTasksDeclared is params whose _meta clientCapabilities also declare
// the tasks extension (the slow path: decoded and encoded).
func withTasksDeclared(params json.RawMessage) (json.RawMessage, error) {
	var obj, meta, caps, ext map[string]json.RawMessage
	if err := json.Unmarshal(params, &obj); err != nil {
		return nil, err
	}
	_ = json.Unmarshal(obj["_meta"], &meta)
	if meta == nil {
		meta = map[string]json.RawMessage{}
	}
	_ = json.Unmarshal(meta[mcp.MetaClientCapabilities], &caps)
	if caps == nil {
		caps = map[string]json.RawMessage{}
	}
	_ = json.Unmarshal(caps["extensions"], &ext)
	if ext == nil {
		ext = map[string]json.RawMessage{}
	}
	ext[mcp.ExtensionTasks] = emptyResult
	caps["extensions"] = jsonrpc.MustRaw(ext)
	meta[mcp.MetaClientCapabilities] = jsonrpc.MustRaw(caps)
	obj["_meta"] = jsonrpc.MustRaw(meta)
	return json.Marshal(obj)
}

// upstreamTask is what the gateway reads of a CreateTaskResult and of a
// tasks/get result.
type upstreamTask struct {
	ResultType     string                     `json:"resultType"`
	TaskID         string                     `json:"taskId"`
	Status         string                     `json:"status"`
	StatusMessage  string                     `json:"statusMessage"`
	PollIntervalMs int64                      `json:"pollIntervalMs"`
	InputRequests  map[string]json.RawMessage `json:"inputRequests"`
	Result         json.RawMessage            `json:"result"`
	Error          *jsonrpc.Error             `json:"error"`
}

// driveTask turns a CreateTaskResult into the task's outcome for a session
// client; any other response is returned as it is.
func (r *Relay) driveTask(ctx context.Context, cl *call, conn upstream.Conn, params json.RawMessage, resp *jsonrpc.Message) (*jsonrpc.Message, error) {
	if resp.Error != nil {
		return resp, nil
	}
	if rt, ok := jsonrpc.Lookup(resp.Result, "resultType"); !ok || string(rt) != `"`+mcp.ResultTypeTask+`"` {
		return resp, nil
	}
	var t upstreamTask
	if json.Unmarshal(resp.Result, &t) != nil || t.TaskID == "" {
		return jsonrpc.NewErrorResponse(resp.ID, jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error: the upstream returned a malformed task")), nil
	}
	meta, _ := jsonrpc.Lookup(params, "_meta") // the declaration the task was made with
	d := &taskDriver{r: r, cl: cl, conn: conn, id: t.TaskID, meta: meta}
	res, rpcErr, err := d.run(ctx, t.PollIntervalMs)
	switch {
	case err != nil:
		d.cancel(ctx) // the client cancelled, or the call timed out [TASKS "Cancellation"]
		return nil, err
	case rpcErr != nil:
		return jsonrpc.NewErrorResponse(resp.ID, rpcErr), nil
	}
	return jsonrpc.NewResponse(resp.ID, res), nil
}

// taskDriver polls one upstream task for a session call.
type taskDriver struct {
	r    *Relay
	cl   *call
	conn upstream.Conn
	id   string
	meta json.RawMessage
	// progress is the state of the progress reported from the task's
	// status (tasks_progress.go).
	progress taskProgress
}

// params are the params of a tasks/* request about the task.
func (d *taskDriver) params(responses map[string]json.RawMessage) json.RawMessage {
	p := map[string]any{"taskId": d.id}
	if len(d.meta) > 0 {
		p["_meta"] = d.meta
	}
	if responses != nil {
		p["inputResponses"] = responses
	}
	return jsonrpc.MustRaw(p)
}

// run polls until the task is terminal: its result, its error, or err
// when ctx ended or M could not be reached.
func (d *taskDriver) run(ctx context.Context, pollMs int64) (json.RawMessage, *jsonrpc.Error, error) {
	poll := min(max(time.Duration(pollMs)*time.Millisecond, minTaskPoll), maxTaskPoll)
	if pollMs <= 0 {
		poll = defaultTaskPoll
	}
	timer := time.NewTimer(poll)
	defer timer.Stop()
	for {
		select {
		case <-timer.C:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
		resp, err := d.conn.Call(ctx, mcp.MethodTasksGet, d.params(nil))
		if err != nil {
			return nil, nil, err
		}
		if resp.Error != nil {
			return nil, resp.Error, nil // e.g. the task expired upstream
		}
		var t upstreamTask
		if json.Unmarshal(resp.Result, &t) != nil {
			return nil, jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error: the upstream returned a malformed task"), nil
		}
		d.report(&t) // tasks_progress.go
		switch t.Status {
		case mcp.TaskCompleted:
			return t.Result, nil, nil
		case mcp.TaskFailed:
			if t.Error == nil {
				t.Error = jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error: the upstream task failed")
			}
			return nil, t.Error, nil
		case mcp.TaskCancelled:
			return nil, jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error: the upstream cancelled the task"), nil
		case mcp.TaskInputRequired:
			if len(t.InputRequests) > 0 {
				// [TASKS "Handle input requests"]: the session answers them as
				// server→client requests (as for MRTR, §4.3 B), then
				// tasks/update delivers the answers.
				answers, rpcErr := d.r.askClient(ctx, d.cl, t.InputRequests)
				if ctx.Err() != nil {
					return nil, nil, ctx.Err()
				}
				if rpcErr != nil {
					d.cancel(ctx)
					return nil, rpcErr, nil
				}
				up, err := d.conn.Call(ctx, mcp.MethodTasksUpdate, d.params(answers))
				if err != nil {
					return nil, nil, err
				}
				if up.Error != nil {
					return nil, up.Error, nil
				}
				timer.Reset(0) // see where the answers took it at once
				continue
			}
		}
		if t.PollIntervalMs > 0 {
			poll = min(max(time.Duration(t.PollIntervalMs)*time.Millisecond, minTaskPoll), maxTaskPoll)
		}
		timer.Reset(poll)
	}
}

// cancel asks M to cancel the task, on a context of its own: the call's
// has usually ended. Cancellation is cooperative; the answer is ignored.
func (d *taskDriver) cancel(ctx context.Context) {
	cctx, stop := context.WithTimeout(context.WithoutCancel(ctx), taskCancelTimeout)
	defer stop()
	if _, err := d.conn.Call(cctx, mcp.MethodTasksCancel, d.params(nil)); err != nil {
		d.r.log.Debug("cancelling an upstream task", "upstream", d.cl.upstream, "err", err)
	}
}
