package relay

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// The tasks extension for 2026-07-28 clients of modern upstreams that offer
// it (docs/protocol-eras.md §4.6 first bullet). [TASKS] is
// docs/extensions/tasks/overview.mdx (SEP-2663) in
// modelcontextprotocol/modelcontextprotocol, [B26]
// docs/specification/2026-07-28/basic/index.mdx.
//
//	client                         gateway                                 upstream M
//	tools/call ────────────────────▶ forward (pass-through) ─────────────────▶
//	◀── {resultType:"task", taskId: T} ◀── wrapTaskResult: T = seal(M, t, principal, replica) ◀── {…, taskId: t}
//	tasks/get {taskId: T} ─────────▶ statelessTask: open T → (M, t), principal and replica checked
//	                                  taskId rewritten to t, forwarded to M ─▶
//	◀── {…, taskId: T} ◀──────────── taskId rewritten back to T ◀─────────────
//
// Nothing is stored: the token is the route. The client's _meta (its
// extension declaration) passes through as bytes, so M decides per request
// whether to make a task [TASKS §How Tasks work 1].

// tasksOffered reports whether a shared modern upstream declares the tasks
// extension, or a per-user one was seen to (tasks_peruser.go).
func (r *Relay) tasksOffered() bool {
	if r.tasks.perUserOffered() {
		return true
	}
	for _, u := range r.upstreams {
		if info := u.info(); info != nil && info.Era == upstream.EraModern {
			if v, ok := jsonrpc.Lookup(info.Capabilities.Extensions, mcp.ExtensionTasks); ok && string(v) != "null" {
				return true
			}
		}
	}
	return false
}

// withTasksExtension adds the tasks extension to a DiscoverResult's
// capabilities when an upstream offers it: under extensions, never as a
// tasks slot [TASKS §For MCP servers "Advertise support"; the suite's
// tasks-extension-advertised].
func (r *Relay) withTasksExtension(caps json.RawMessage) json.RawMessage {
	if !r.tasksOffered() {
		return caps
	}
	obj := map[string]json.RawMessage{}
	_ = json.Unmarshal(caps, &obj)
	ext := map[string]json.RawMessage{}
	_ = json.Unmarshal(obj["extensions"], &ext)
	ext[mcp.ExtensionTasks] = emptyResult
	obj["extensions"] = jsonrpc.MustRaw(ext)
	return jsonrpc.MustRaw(obj)
}

// missingTasksError is -32021 for a request that needs the tasks extension
// its _meta does not declare (docs/protocol-eras.md §2 rule 14; 400 on
// HTTP).
func missingTasksError() *jsonrpc.Error {
	return &jsonrpc.Error{Code: mcp.CodeMissingClientCapability,
		Message: "Missing required client capability: extensions." + mcp.ExtensionTasks, Data: mcp.MissingTasksData}
}

// errUnknownTask answers a task token that does not open, belongs to
// another principal or names an upstream that is gone: one answer for all,
// so that a token reveals nothing about tasks that are not the caller's
// [TASKS: -32602 for task ids the server does not recognise].
var errUnknownTask = jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Invalid params: unknown task")

// statelessTask routes tasks/get, tasks/update and tasks/cancel of a
// 2026-07-28 client to the upstream its token names.
func (r *Relay) statelessTask(ctx context.Context, c *Client, msg *jsonrpc.Message, out Stream) (json.RawMessage, *jsonrpc.Error) {
	if !r.tasksOffered() {
		// No upstream offers the extension: its methods do not exist here.
		return nil, jsonrpc.NewError(jsonrpc.CodeMethodNotFound, "Method not found: "+msg.Method)
	}
	if !mcp.DeclaresExtension(c.Capabilities.Raw, mcp.ExtensionTasks) {
		return nil, missingTasksError() // [B26 §_meta "Missing Required Capabilities"]
	}
	tok, at, ok := stringMember(msg.Params, "taskId")
	if !ok {
		return nil, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Invalid params: taskId required")
	}
	claims, rpcErr := r.openTaskToken(c, tok)
	if rpcErr != nil {
		return nil, rpcErr
	}
	fwd := *msg
	fwd.Params = applySplices(msg.Params, []splice{{at, jsonrpc.AppendString(nil, claims.taskID)}})
	res, rpcErr := r.forward(ctx, c, &fwd, out, claims.upstream, upstreamParams{})
	if rpcErr != nil || msg.Method != mcp.MethodTasksGet {
		return res, rpcErr // acks carry no taskId
	}
	if _, at, ok := stringMember(res, "taskId"); ok {
		res = applySplices(res, []splice{{at, jsonrpc.AppendString(nil, tok)}})
	}
	return res, nil
}

// openTaskToken opens a client's task token and checks that it is the
// caller's, minted by this gateway process, for an upstream that exists.
func (r *Relay) openTaskToken(c *Client, tok string) (taskClaims, *jsonrpc.Error) {
	if err := r.mrtrInit(); err != nil {
		return taskClaims{}, jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error")
	}
	claims, ok := r.mrtr.sealer.openTask(tok)
	if !ok || claims.principal != principalDigest(c.Principal.Key()) {
		return claims, errUnknownTask
	}
	if claims.replica != r.mrtr.replica {
		// The upstream process holding the task is another replica's (or
		// was this one's before a restart); see docs/protocol-eras.md §4.7.
		return claims, jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Invalid params: the task belongs to another gateway instance")
	}
	if _, ok := r.conn(claims.upstream); !ok {
		return claims, errUnknownTask
	}
	return claims, nil
}

// wrapTaskResult replaces the taskId of a CreateTaskResult from a modern
// upstream with a gateway task token for the calling 2026-07-28 client;
// any other response passes unchanged (one byte search when it is not a
// task).
func (r *Relay) wrapTaskResult(cl *call, resp *jsonrpc.Message, err error) (*jsonrpc.Message, error) {
	if err != nil || resp == nil || resp.Error != nil || !bytes.Contains(resp.Result, []byte(`"task"`)) {
		return resp, err
	}
	if rt, ok := jsonrpc.Lookup(resp.Result, "resultType"); !ok || string(rt) != `"`+mcp.ResultTypeTask+`"` {
		return resp, nil
	}
	id, at, ok := stringMember(resp.Result, "taskId")
	if !ok || id == "" || len(id) > maxUpstreamTaskID || r.mrtrInit() != nil {
		r.log.Warn("upstream task result without a usable taskId", "upstream", cl.upstream)
		return jsonrpc.NewErrorResponse(resp.ID, jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error: the upstream returned a malformed task")), nil
	}
	r.noteTasksFrom(cl.upstream) // tasks_peruser.go: a per-user upstream that made a task offers them
	tok := r.mrtr.sealer.sealTask(&taskClaims{replica: r.mrtr.replica, principal: principalDigest(cl.client.Principal.Key()),
		upstream: cl.upstream, taskID: id})
	out := *resp
	out.Result = applySplices(resp.Result, []splice{{at, jsonrpc.AppendString(nil, tok)}})
	return &out, nil
}

// stringMember finds a top-level string member of obj: its value and the
// span of its encoded value.
func stringMember(obj json.RawMessage, key string) (string, span, bool) {
	var (
		val string
		at  span
		ok  bool
	)
	jsonrpc.Members(obj, func(m jsonrpc.Member) bool {
		if !plainKey(m) || string(m.Key) != key {
			return true
		}
		ok = len(m.Value) > 0 && m.Value[0] == '"' && json.Unmarshal(m.Value, &val) == nil
		at = span{m.Start, m.End}
		return true // the last one counts, as for encoding/json
	})
	return val, at, ok
}
