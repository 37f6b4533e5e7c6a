package relay

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// subscriptions/listen for 2026-07-28 clients (docs/protocol-eras.md §4.4).
// [SUB] is docs/specification/2026-07-28/basic/utilities/subscriptions.mdx.

// listen is one open subscriptions/listen stream.
type listen struct {
	client *Client // the per-request client: its principal decides what it sees
	out    Stream
	// kinds are the list kinds (listTools, listPrompts, listResources) the
	// client opted in to [SUB §Filter].
	kinds [3]bool
	// tag is the params every notification of this stream carries:
	// _meta.subscriptionId = the listen request's id [SUB §Notifications].
	tag json.RawMessage
	// id is the listen request's id.
	id json.RawMessage
	// subs are the resource subscriptions the stream holds (listensubs.go);
	// only the listen's own goroutine touches them.
	subs []listenSub

	sendMu sync.Mutex // guards acked and pending, and orders sends
	// acked is set once the acknowledgement went out: it must be the
	// stream's first message [SUB §Acknowledgment], and subscribing takes
	// upstream calls, so notifications that come earlier wait in pending.
	acked   bool
	pending []*jsonrpc.Message
}

// maxPendingListen bounds the notifications held for a listen until its
// acknowledgement; more are dropped (a list_changed or update seen before
// the client knew it was subscribed).
const maxPendingListen = 16

// send sends m on the stream after the acknowledgement, or holds it until
// then.
func (l *listen) send(m *jsonrpc.Message) error {
	l.sendMu.Lock()
	defer l.sendMu.Unlock()
	if !l.acked {
		if len(l.pending) < maxPendingListen {
			l.pending = append(l.pending, m)
		}
		return nil
	}
	return l.out.Send(m)
}

// acknowledge sends the acknowledgement, then what waited for it.
func (l *listen) acknowledge(ack *jsonrpc.Message) error {
	l.sendMu.Lock()
	defer l.sendMu.Unlock()
	if err := l.out.Send(ack); err != nil {
		return err
	}
	l.acked = true
	for _, m := range l.pending {
		if err := l.out.Send(m); err != nil {
			return err
		}
	}
	l.pending = nil
	return nil
}

// listenFilter is S26 SubscriptionFilter.
type listenFilter struct {
	ToolsListChanged      bool     `json:"toolsListChanged,omitempty"`
	PromptsListChanged    bool     `json:"promptsListChanged,omitempty"`
	ResourcesListChanged  bool     `json:"resourcesListChanged,omitempty"`
	ResourceSubscriptions []string `json:"resourceSubscriptions,omitempty"`
	// TaskIDs are the tasks followed (the tasks extension; tasks_listen.go).
	TaskIDs []string `json:"taskIds,omitempty"`
}

// listen serves a subscriptions/listen request: it acknowledges the
// honoured part of the filter, registers the stream for list_changed
// fan-out, and holds it until the client closes it or the relay closes.
// It never answers with a result [SUB §Cancellation]: errNoResponse.
func (r *Relay) listen(ctx context.Context, c *Client, msg *jsonrpc.Message, out Stream) *jsonrpc.Error {
	var p struct {
		Notifications *listenFilter `json:"notifications"`
	}
	if err := json.Unmarshal(msg.Params, &p); err != nil || p.Notifications == nil {
		// [SUB §Filter]: notifications is required.
		return jsonrpc.NewError(jsonrpc.CodeInvalidParams, "Invalid params: notifications filter required")
	}
	f := p.Notifications
	if rpcErr := checkListenTasks(c, f); rpcErr != nil {
		return rpcErr // tasks_listen.go
	}
	// Honoured subset [SUB §Acknowledgment]: the list kinds as asked, and
	// the resources whose upstream can deliver updates (listensubs.go).
	honoured := listenFilter{
		ToolsListChanged:     f.ToolsListChanged,
		PromptsListChanged:   f.PromptsListChanged,
		ResourcesListChanged: f.ResourcesListChanged,
	}
	tagMeta := map[string]json.RawMessage{mcp.MetaSubscriptionID: msg.ID}
	l := &listen{
		client: c,
		out:    out,
		kinds:  [3]bool{listTools: f.ToolsListChanged, listPrompts: f.PromptsListChanged, listResources: f.ResourcesListChanged},
		tag:    jsonrpc.MustRaw(map[string]any{"_meta": tagMeta}),
		id:     msg.ID,
	}
	// Registered before the acknowledgement, so that a change made as soon
	// as the client reads it is delivered.
	r.mu.Lock()
	r.listens[l] = struct{}{}
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.listens, l)
		r.mu.Unlock()
		r.releaseListenSubs(l) // [SUB §Cancellation]: the stream ended
		r.releaseListenTasks(l)
	}()
	if len(f.ResourceSubscriptions) > 0 {
		honoured.ResourceSubscriptions = r.listenSubscribe(ctx, c, l, f.ResourceSubscriptions)
	}
	if len(f.TaskIDs) > 0 {
		honoured.TaskIDs = r.listenTasks(ctx, c, l, f.TaskIDs) // tasks_listen.go
	}
	ack := jsonrpc.NewNotification(mcp.NotificationSubscriptionsAcknowledged,
		jsonrpc.MustRaw(map[string]any{"notifications": honoured, "_meta": tagMeta}))
	if err := l.acknowledge(ack); err != nil {
		return errNoResponse
	}
	select {
	case <-ctx.Done():
	case <-r.ctx.Done():
	}
	return errNoResponse
}

// notifyListens sends the list_changed notifications of changed to every
// listen stream that asked for the kind and, when sees is not nil, whose
// client sees the change (per-user upstreams).
func (r *Relay) notifyListens(changed [4]bool, sees func(*Client) bool) {
	r.mu.Lock()
	if len(r.listens) == 0 {
		r.mu.Unlock()
		return
	}
	var targets []*listen
	for l := range r.listens {
		if sees == nil || sees(l.client) {
			targets = append(targets, l)
		}
	}
	r.mu.Unlock()
	for k, method := range [...]string{
		listTools:     mcp.NotificationToolsListChanged,
		listPrompts:   mcp.NotificationPromptsListChanged,
		listResources: mcp.NotificationResourcesListChanged,
	} {
		if !changed[k] {
			continue
		}
		for _, l := range targets {
			if !l.kinds[k] {
				continue // [SUB §Filter]: only what the client asked for
			}
			if err := l.send(jsonrpc.NewNotification(method, l.tag)); err != nil {
				r.log.Debug("listen stream refused a notification", "session", l.client.SessionID, "method", method, "err", err)
			}
		}
	}
}
