package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"sort"
	"sync"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// The tasks extension in the modern era (io.modelcontextprotocol/tasks,
// SEP-2663; [TASKS] = docs/extensions/tasks/overview.mdx in
// modelcontextprotocol/modelcontextprotocol, and the conformance suite's
// tasks-* scenarios; docs/protocol-eras.md §4.6, §6).
//
//	tools/call of a task tool, extension declared ──▶ startTask: record + goroutine
//	    ◀── CreateTaskResult {resultType:"task", taskId, status:"working", …}
//	tasks/get    ──▶ the record: status, inputRequests while input_required,
//	                 result (completed) or error (failed) once terminal
//	tasks/update ──▶ answers for pending inputRequests wake the goroutine
//	tasks/cancel ──▶ status cancelled at once, the goroutine's context ends
//
// Tasks are bounded: at most maxTasks at once, each kept taskTTL from its
// creation (expired ones are swept when a task is created). Every task
// goroutine belongs to the store, which cancels and waits for them when
// the server stops.

const (
	maxTasks         = 256
	taskTTL          = 5 * time.Minute
	taskPollInterval = 200 * time.Millisecond
)

// taskStore holds the tasks of a modern-era server. The zero value is
// ready.
type taskStore struct {
	wg sync.WaitGroup // the tasks' goroutines

	mu sync.Mutex // guards tasks, closed and every task's mutable fields
	// tasks are the live tasks by id.
	tasks  map[string]*demoTask
	closed bool
	// notify hears every status change (tasks_notify.go); nil: nobody.
	notify func(taskView)
}

// demoTask is one task. Fields after cancel are guarded by taskStore.mu.
type demoTask struct {
	st      *taskStore
	id      string
	created time.Time
	cancel  context.CancelFunc

	status  string
	updated time.Time
	result  json.RawMessage // completed
	err     *jsonrpc.Error  // failed
	// asked are the input requests waiting for tasks/update, by key;
	// answers the responses not yet taken by the task.
	asked   map[string]inputRequest
	answers map[string]json.RawMessage
	// changed is closed (and replaced) when answers arrive.
	changed chan struct{}
}

// taskRun is a task's work: its result, or a protocol-level error
// (status failed). in gathers client input.
type taskRun func(ctx context.Context, in asker) (*toolResult, *jsonrpc.Error)

// asker gathers client input for a task fixture: inside a task through
// inputRequests on tasks/get and tasks/update; in a synchronous call
// through the era's InputRequiredResult (syncAsker).
type asker interface {
	ask(ctx context.Context, reqs map[string]inputRequest) (map[string]json.RawMessage, error)
}

var errTasksStopped = jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error: the server is stopping")

// start creates a task running run and returns its CreateTaskResult. The
// task exists before the result is returned [TASKS §How Tasks work 2:
// "durably created before the response is sent"].
func (st *taskStore) start(run taskRun) (json.RawMessage, *jsonrpc.Error) {
	now := time.Now()
	var idb [16]byte
	_, _ = rand.Read(idb[:])
	ctx, cancel := context.WithCancel(context.Background())
	t := &demoTask{st: st, id: hex.EncodeToString(idb[:]), created: now, cancel: cancel,
		status: mcp.TaskWorking, updated: now, asked: map[string]inputRequest{},
		answers: map[string]json.RawMessage{}, changed: make(chan struct{})}
	st.mu.Lock()
	if st.closed {
		st.mu.Unlock()
		cancel()
		return nil, errTasksStopped
	}
	st.sweepLocked(now)
	if len(st.tasks) >= maxTasks {
		st.mu.Unlock()
		cancel()
		return nil, jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error: too many tasks; try again later")
	}
	if st.tasks == nil {
		st.tasks = map[string]*demoTask{}
	}
	st.tasks[t.id] = t
	st.wg.Add(1)
	created := jsonrpc.MustRaw(struct {
		ResultType string `json:"resultType"`
		taskView
	}{mcp.ResultTypeTask, t.viewLocked(false)})
	st.mu.Unlock()
	go func() {
		defer st.wg.Done()
		defer cancel()
		res, rpcErr := run(ctx, t)
		st.finish(t, ctx, res, rpcErr)
	}()
	return created, nil
}

// sweepLocked drops the tasks older than taskTTL, cancelling those still
// running.
func (st *taskStore) sweepLocked(now time.Time) {
	for id, t := range st.tasks {
		if now.Sub(t.created) > taskTTL {
			t.cancel()
			delete(st.tasks, id)
		}
	}
}

// finish records a task's outcome unless it is already terminal (it was
// cancelled).
func (st *taskStore) finish(t *demoTask, ctx context.Context, res *toolResult, rpcErr *jsonrpc.Error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if mcp.TaskTerminal(t.status) {
		return
	}
	t.updated = time.Now()
	t.asked = nil
	switch {
	case ctx.Err() != nil:
		t.status = mcp.TaskCancelled
	case rpcErr != nil:
		// [TASKS §Task lifecycle]: failed is a JSON-RPC error; a tool that
		// ran and reported an error is completed with isError.
		t.status, t.err = mcp.TaskFailed, rpcErr
	case res == nil:
		t.status, t.err = mcp.TaskFailed, jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error: the task stopped")
	default:
		t.status, t.result = mcp.TaskCompleted, jsonrpc.MustRaw(res)
	}
	t.changedLocked()
}

// close cancels every task and waits for their goroutines; no task starts
// after it.
func (st *taskStore) close() {
	st.mu.Lock()
	st.closed = true
	for _, t := range st.tasks {
		t.cancel()
	}
	st.mu.Unlock()
	st.wg.Wait()
}

// ask is asker inside a task: the requests become the task's
// inputRequests (status input_required) until tasks/update has answered
// every one of them [TASKS §How Tasks work 4].
func (t *demoTask) ask(ctx context.Context, reqs map[string]inputRequest) (map[string]json.RawMessage, error) {
	st := t.st
	st.mu.Lock()
	if mcp.TaskTerminal(t.status) { // cancelled meanwhile
		st.mu.Unlock()
		return nil, context.Canceled
	}
	for k, v := range reqs {
		t.asked[k] = v
	}
	t.status, t.updated = mcp.TaskInputRequired, time.Now()
	t.changedLocked()
	for {
		out := make(map[string]json.RawMessage, len(reqs))
		for k := range reqs {
			if v, ok := t.answers[k]; ok {
				out[k] = v
			}
		}
		if len(out) == len(reqs) {
			for k := range reqs {
				delete(t.answers, k)
			}
			st.mu.Unlock()
			return out, nil
		}
		ch := t.changed
		st.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		st.mu.Lock()
	}
}

// taskView is the Task object of CreateTaskResult and tasks/get
// [TASKS; SEP-2663 wire names: ttlMs and pollIntervalMs, integer
// milliseconds; no requestState].
type taskView struct {
	TaskID         string                  `json:"taskId"`
	Status         string                  `json:"status"`
	CreatedAt      string                  `json:"createdAt"`
	LastUpdatedAt  string                  `json:"lastUpdatedAt"`
	TTLMs          int64                   `json:"ttlMs"`
	PollIntervalMs int64                   `json:"pollIntervalMs"`
	InputRequests  map[string]inputRequest `json:"inputRequests,omitempty"`
	Result         json.RawMessage         `json:"result,omitempty"`
	Error          *jsonrpc.Error          `json:"error,omitempty"`
}

const isoMillis = "2006-01-02T15:04:05.000Z07:00"

// viewLocked is the task as tasks/get shows it (detailed) or as
// CreateTaskResult does.
func (t *demoTask) viewLocked(detailed bool) taskView {
	v := taskView{TaskID: t.id, Status: t.status, CreatedAt: t.created.UTC().Format(isoMillis),
		LastUpdatedAt: t.updated.UTC().Format(isoMillis), TTLMs: taskTTL.Milliseconds(),
		PollIntervalMs: taskPollInterval.Milliseconds()}
	if detailed {
		if t.status == mcp.TaskInputRequired && len(t.asked) > 0 {
			v.InputRequests = t.asked
		}
		v.Result, v.Error = t.result, t.err
	}
	return v
}

// taskParams are the params of tasks/get, tasks/update and tasks/cancel.
type taskParams struct {
	TaskID         *string                    `json:"taskId"`
	InputResponses map[string]json.RawMessage `json:"inputResponses"`
	Meta           struct {
		Caps json.RawMessage `json:"io.modelcontextprotocol/clientCapabilities"`
	} `json:"_meta"`
}

// lookup reads a tasks/* request and finds its task: -32021 without the
// extension declared [B26 §_meta; TASKS], -32602 for an unknown id.
func (s *server) lookupTask(r *request) (*demoTask, *taskParams, *jsonrpc.Error) {
	var p taskParams
	if e := decodeParams(r.params, &p); e != nil {
		return nil, nil, e
	}
	if !mcp.DeclaresExtension(p.Meta.Caps, mcp.ExtensionTasks) {
		return nil, nil, missingTasks()
	}
	if p.TaskID == nil {
		return nil, nil, invalidParams("taskId is required")
	}
	st := &s.modern.tasks
	st.mu.Lock()
	t := st.tasks[*p.TaskID]
	if t != nil && time.Since(t.created) > taskTTL {
		t = nil
	}
	st.mu.Unlock()
	if t == nil {
		return nil, nil, invalidParams("unknown task") // [TASKS]: -32602 for unknown ids
	}
	return t, &p, nil
}

func missingTasks() *jsonrpc.Error {
	return &jsonrpc.Error{Code: mcp.CodeMissingClientCapability,
		Message: "Missing required client capability: extensions." + mcp.ExtensionTasks, Data: mcp.MissingTasksData}
}

// taskHandler serves a tasks/* method: fn runs on the request's task
// with the store locked.
func taskHandler(fn func(t *demoTask, p *taskParams) any) handlerFunc {
	return func(_ context.Context, s *server, r *request) (any, *jsonrpc.Error) {
		t, p, e := s.lookupTask(r)
		if e != nil {
			return nil, e
		}
		t.st.mu.Lock()
		defer t.st.mu.Unlock()
		return fn(t, p), nil
	}
}

// getTask is tasks/get: the task with its inputRequests, result or error
// (resultType "complete" is added by shapeModern).
func getTask(t *demoTask, _ *taskParams) any { return t.viewLocked(true) }

// updateTask is tasks/update: inputResponses go to the task's pending
// requests; unknown or already answered keys are ignored, and the answer
// is an empty ack [TASKS §For MCP servers "Handle tasks/update"].
func updateTask(t *demoTask, p *taskParams) any {
	keys := make([]string, 0, len(p.InputResponses))
	for k := range p.InputResponses {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	delivered := false
	for _, k := range keys {
		if _, pending := t.asked[k]; pending {
			t.answers[k] = p.InputResponses[k]
			delete(t.asked, k)
			delivered = true
		}
	}
	if delivered {
		if len(t.asked) == 0 && t.status == mcp.TaskInputRequired {
			t.status = mcp.TaskWorking
		}
		t.updated = time.Now()
		close(t.changed)
		t.changed = make(chan struct{})
		t.changedLocked()
	}
	return emptyObject
}

// cancelTask is tasks/cancel: a running task is cancelled (its status is
// cancelled at once), a terminal one acknowledged the same way,
// idempotently [TASKS §For MCP servers "Handle tasks/cancel"].
func cancelTask(t *demoTask, _ *taskParams) any {
	if !mcp.TaskTerminal(t.status) {
		t.status, t.updated, t.asked = mcp.TaskCancelled, time.Now(), nil
		t.cancel()
		t.changedLocked()
	}
	return emptyObject
}

// tasksMethod serves the extension's methods and the modern tools/call
// (tasks_tools.go) in the modern era; tasks/result and tasks/list, removed
// by the extension, stay unknown (-32601).
func tasksMethod(name string) (method, bool) {
	switch name {
	case mcp.MethodTasksGet:
		return method{taskHandler(getTask), true}, true
	case mcp.MethodTasksUpdate:
		return method{taskHandler(updateTask), true}, true
	case mcp.MethodTasksCancel:
		return method{taskHandler(cancelTask), true}, true
	case mcp.MethodToolsCall:
		return method{handleModernToolsCall, false}, true
	}
	return method{}, false
}

// presetResultType reports whether a handler built its result with its
// own resultType (a CreateTaskResult), which shapeModern then keeps.
func presetResultType(result json.RawMessage) bool {
	return len(result) > 14 && string(result[:14]) == `{"resultType":`
}
