package relay

import (
	"sync"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/upstream"
)

// Tasks on per-user modern upstreams (docs/protocol-eras.md §4.6, §10
// increment 7). server/discover is answered from what the gateway knows
// without starting anything: a per-user upstream has no connection until
// a user needs one, so its capabilities are unknown until then. Every
// user's connection runs the same configured server, so the first one
// that declares the tasks extension (its UpstreamReady), or returns a
// task, makes the gateway advertise the extension for everyone from then
// on, as upstream.EraMemory remembers the era. Until a first user's
// connection is up, discover does not advertise it; a server upgraded to
// drop tasks stays advertised until the gateway restarts (its tasks/*
// then get the upstream's own errors).

// taskState is what the relay remembers about tasks across connections.
type taskState struct {
	mu sync.Mutex // guards the fields below
	// perUser are the per-user upstreams seen offering the extension.
	perUser map[string]struct{}
	// followers are the listens following each upstream task
	// (taskFollowKey), with the token each knows it by (tasks_listen.go).
	followers map[string]map[*listen]string
	// follows are the tasks each listen follows.
	follows map[*listen][]taskFollow
}

func (t *taskState) perUserOffered() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.perUser) > 0
}

// offersTasks reports whether an upstream's Info declares the extension
// [TASKS §Capability Negotiation].
func offersTasks(info *upstream.Info) bool {
	if info == nil || info.Era != upstream.EraModern {
		return false
	}
	v, ok := jsonrpc.Lookup(info.Capabilities.Extensions, mcp.ExtensionTasks)
	return ok && string(v) != "null"
}

// noteUserTasks records that per-user upstream name offers tasks, when the
// Info of one of its users' connections says so.
func (r *Relay) noteUserTasks(name string, info *upstream.Info) {
	if offersTasks(info) {
		r.markUserTasks(name)
	}
}

// noteTasksFrom records that upstream name made a task, if it is a
// per-user one (a shared one's Info already says it).
func (r *Relay) noteTasksFrom(name string) {
	if u, ok := r.conn(name); ok && u.PerUser != nil {
		r.markUserTasks(name)
	}
}

func (r *Relay) markUserTasks(name string) {
	t := &r.tasks
	t.mu.Lock()
	_, known := t.perUser[name]
	if !known {
		if t.perUser == nil {
			t.perUser = map[string]struct{}{}
		}
		t.perUser[name] = struct{}{}
	}
	t.mu.Unlock()
	if !known {
		r.discover.Store(nil) // the cached DiscoverResult lacks the extension
		r.log.Info("per-user upstream offers tasks", "upstream", name)
	}
}
