package mcp

import "encoding/json"

// The tasks extension, io.modelcontextprotocol/tasks (SEP-2663; [TASKS] =
// docs/extensions/tasks/overview.mdx and the experimental-ext-tasks
// repository it points to). See docs/protocol-eras.md §4.6.
const (
	// ExtensionTasks is the extension's id in capabilities.extensions.
	ExtensionTasks = "io.modelcontextprotocol/tasks"
	// ResultTypeTask marks a CreateTaskResult [TASKS §How Tasks work 2].
	ResultTypeTask = "task"

	// MethodTasksResult and MethodTasksList are the 2025-11-25 core-task
	// methods the extension removed (the result is inlined on tasks/get);
	// servers answer them -32601.
	MethodTasksResult = "tasks/result"
	MethodTasksList   = "tasks/list"
)

// Task statuses [TASKS §Task lifecycle]; the last three are terminal.
const (
	TaskWorking       = "working"
	TaskInputRequired = "input_required"
	TaskCompleted     = "completed"
	TaskFailed        = "failed"
	TaskCancelled     = "cancelled"
)

// TaskTerminal reports whether status is terminal: the task's state no
// longer changes.
func TaskTerminal(status string) bool {
	return status == TaskCompleted || status == TaskFailed || status == TaskCancelled
}

// DeclaresExtension reports whether a capabilities object (a client's
// clientCapabilities or a server's capabilities) lists ext under
// extensions with a non-null value.
func DeclaresExtension(caps json.RawMessage, ext string) bool {
	if len(caps) == 0 {
		return false
	}
	var c struct {
		Extensions map[string]json.RawMessage `json:"extensions"`
	}
	if json.Unmarshal(caps, &c) != nil {
		return false
	}
	v, ok := c.Extensions[ext]
	return ok && string(v) != "null"
}

// MissingTasksData is the data of the -32021 MissingRequiredClientCapability
// error for a request that needs the tasks extension: requiredCapabilities
// shaped like ClientCapabilities [B26 §_meta; TASKS "Required
// Capabilities"].
var MissingTasksData = json.RawMessage(`{"requiredCapabilities":{"extensions":{"` + ExtensionTasks + `":{}}}}`)
