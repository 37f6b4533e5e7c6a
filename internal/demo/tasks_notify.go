package demo

import (
	"encoding/json"
	"slices"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
)

// Task status notifications in the modern era ([TASKS] §Task Status
// Notifications of SEP-2663, docs/specification/draft/tasks.mdx in
// modelcontextprotocol/experimental-ext-tasks): a listen whose filter
// names task ids in notifications.taskIds gets notifications/tasks with
// the full task state (what tasks/get would return) at every status
// change, tagged with its subscriptionId.

// notificationTasks is SEP-2663's task status notification.
const notificationTasks = "notifications/tasks"

// watch sets the function that hears the store's status changes.
func (st *taskStore) watch(notify func(taskView)) {
	st.mu.Lock()
	st.notify = notify
	st.mu.Unlock()
}

// changedLocked reports t's state to the store's watcher (st.mu held).
func (t *demoTask) changedLocked() {
	if t.st.notify != nil {
		t.st.notify(t.viewLocked(true))
	}
}

// notifyTaskListens sends v to every listen following its task.
func (s *server) notifyTaskListens(v taskView) {
	m := s.modern
	m.mu.Lock()
	var targets []*modernListen
	for l := range m.listens {
		if slices.Contains(l.filter.TaskIDs, v.TaskID) {
			targets = append(targets, l)
		}
	}
	m.mu.Unlock()
	for _, l := range targets {
		s.send(jsonrpc.NewNotification(notificationTasks, jsonrpc.MustRaw(struct {
			taskView
			Meta map[string]json.RawMessage `json:"_meta"`
		}{v, l.tag})))
	}
}
