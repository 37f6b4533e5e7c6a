package relay

import (
	"context"
	"encoding/json"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// Task status notifications on subscriptions/listen streams of 2026-07-28
// clients (docs/protocol-eras.md §4.6, §10 increment 7). [TASKS] is
// docs/specification/draft/tasks.mdx of
// modelcontextprotocol/experimental-ext-tasks (SEP-2663), §Task Status
// Notifications: a client lists the task ids it follows in its listen
// filter (notifications.taskIds), the acknowledgement lists those the
// server agreed to, and the server MAY then push the full task state as
// notifications/tasks.
//
//	listen {taskIds:[T]} ─ open T → (upstream M, task t, principal checked)
//	                      ─ first follower of (M, t): the gateway holds an
//	                        upstream listen {taskIds:[t]} on M (holdListen;
//	                        a per-user M: the principal's own connection)
//	M: notifications/tasks {taskId: t, …} ─▶ every listen following (M, t):
//	                        taskId ← that listen's T, _meta.subscriptionId ← its id
//
// Both notification names are relayed, under the name the upstream used:
// SEP-2663 calls it notifications/tasks; the 2025-11-25 core tasks and
// earlier drafts of the extension (the schema the conformance suite
// embeds) notifications/tasks/status. The conformance suite's
// tasks-status-notifications scenario is a placeholder (no checks).

// Task status notification methods.
const (
	notificationTasks       = "notifications/tasks"
	notificationTasksStatus = "notifications/tasks/status"
)

// maxListenTasks bounds the tasks one listen follows; more are left out of
// the acknowledgement (a permitted subset [SUB §Acknowledgment]).
const maxListenTasks = 64

// taskFollow is one task a listen follows.
type taskFollow struct {
	key      string // taskFollowKey
	upstream string
	release  func() // ends the hold on a per-user connection; nil for a shared one
}

// taskFollowKey keys the followers of an upstream task: by upstream and
// task id, and by user for a per-user upstream (each user's connection has
// its own tasks).
func taskFollowKey(user, name, taskID string) string {
	return user + "\x00" + name + "\x00" + taskID
}

// checkListenTasks refuses a listen that asks for task notifications
// without declaring the tasks extension [TASKS §Task Status
// Notifications: "MUST return a JSON-RPC error specifying the missing
// capabilities"] (-32021, 400 on HTTP, as rule 14 of
// docs/protocol-eras.md §2).
func checkListenTasks(c *Client, f *listenFilter) *jsonrpc.Error {
	if len(f.TaskIDs) > 0 && !mcp.DeclaresExtension(c.Capabilities.Raw, mcp.ExtensionTasks) {
		return missingTasksError()
	}
	return nil
}

// listenTasks makes listen l follow each of the task tokens it can, and
// returns those, in order: the honoured part of the filter. A token that
// does not open for this principal, or names an upstream that is gone, is
// left out, as is a session-era upstream (it has no tasks).
func (r *Relay) listenTasks(ctx context.Context, c *Client, l *listen, tokens []string) []string {
	var out []string
	var follows []taskFollow
	seen := make(map[string]bool, len(tokens))
	for _, tok := range tokens {
		if len(follows) == maxListenTasks {
			break
		}
		if seen[tok] {
			continue
		}
		seen[tok] = true
		claims, rpcErr := r.openTaskToken(c, tok)
		if rpcErr != nil {
			continue
		}
		f, ok := r.followTask(ctx, c, l, tok, claims)
		if !ok {
			continue
		}
		follows = append(follows, f)
		out = append(out, tok)
	}
	if len(follows) > 0 {
		t := &r.tasks
		t.mu.Lock()
		if t.follows == nil {
			t.follows = map[*listen][]taskFollow{}
		}
		t.follows[l] = follows
		t.mu.Unlock()
	}
	return out
}

// followTask registers l as a follower of the task claims name; the first
// follower opens the upstream listen.
func (r *Relay) followTask(ctx context.Context, c *Client, l *listen, tok string, claims taskClaims) (taskFollow, bool) {
	u, _ := r.conn(claims.upstream)
	f := taskFollow{upstream: claims.upstream}
	conn, user := u.Conn, ""
	if u.PerUser != nil {
		// The principal's own connection holds its tasks; kept while the
		// listen follows one of them.
		user = c.Principal.Key()
		var err error
		if conn, f.release, err = u.PerUser.Acquire(ctx, user); err != nil {
			return f, false
		}
	}
	if !isModern(conn) {
		if f.release != nil {
			f.release()
		}
		return f, false
	}
	f.key = taskFollowKey(user, claims.upstream, claims.taskID)
	t := &r.tasks
	t.mu.Lock()
	if t.followers == nil {
		t.followers = map[string]map[*listen]string{}
	}
	set := t.followers[f.key]
	if set == nil {
		set = map[*listen]string{}
		t.followers[f.key] = set
	}
	set[l] = tok
	if len(set) == 1 {
		// Under t.mu, so that a last follower leaving at the same time
		// cannot stop the listen opened here (holdListen does not block).
		r.holdListen(taskListenKey(f.key), claims.upstream, conn, listenFilter{TaskIDs: []string{claims.taskID}})
	}
	t.mu.Unlock()
	return f, true
}

// taskListenKey keys an upstream task listen in upstreamListens, apart
// from list listens (the upstream's name) and resource listens.
func taskListenKey(key string) string { return "task\x00" + key }

// releaseListenTasks ends l's follows; the upstream listen of a task goes
// with its last follower [SUB §Cancellation].
func (r *Relay) releaseListenTasks(l *listen) {
	t := &r.tasks
	t.mu.Lock()
	follows := t.follows[l]
	delete(t.follows, l)
	for _, f := range follows {
		set := t.followers[f.key]
		delete(set, l)
		if len(set) == 0 {
			delete(t.followers, f.key)
			r.stopListen(taskListenKey(f.key)) // under t.mu, as in followTask
		}
	}
	t.mu.Unlock()
	for _, f := range follows {
		if f.release != nil {
			f.release()
		}
	}
}

// upstreamTaskStatus relays an upstream's task status notification to
// every listen following that task, with the taskId replaced by the
// listen's own token and _meta.subscriptionId by the listen's id (an
// upstream's own replaced) [SUB §Receiving Notifications]; everything else
// (status, result, error, timestamps) passes unchanged.
func (r *Relay) upstreamTaskStatus(o origin, msg *jsonrpc.Message) {
	id, _, ok := stringMember(msg.Params, "taskId")
	if !ok {
		return
	}
	key := taskFollowKey(o.user, o.upstream, id)
	t := &r.tasks
	t.mu.Lock()
	targets := make(map[*listen]string, len(t.followers[key]))
	for l, tok := range t.followers[key] {
		targets[l] = tok
	}
	t.mu.Unlock()
	if len(targets) == 0 {
		r.log.Debug("task notification for no listen", "upstream", o.upstream)
		return
	}
	var p map[string]json.RawMessage
	if json.Unmarshal(msg.Params, &p) != nil {
		return
	}
	var meta map[string]json.RawMessage
	_ = json.Unmarshal(p["_meta"], &meta)
	if meta == nil {
		meta = map[string]json.RawMessage{}
	}
	for l, tok := range targets {
		p["taskId"] = jsonrpc.MustRaw(tok)
		meta[mcp.MetaSubscriptionID] = l.id
		p["_meta"] = jsonrpc.MustRaw(meta)
		if err := l.send(jsonrpc.NewNotification(msg.Method, jsonrpc.MustRaw(p))); err != nil {
			r.log.Debug("listen stream refused a notification", "session", l.client.SessionID, "err", err)
		}
	}
}
