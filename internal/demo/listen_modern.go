package demo

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// subscriptions/listen in the modern era [SUB] =
// docs/specification/draft/basic/patterns/subscriptions.mdx: the request
// stays open, its first message is the acknowledgement, and change
// notifications go only to the listens that asked for them, each tagged
// with _meta.subscriptionId (the listen request's id). Over stdio the
// client ends a listen with notifications/cancelled; no response follows.

// modernListen is one open listen.
type modernListen struct {
	filter listenFilter
	tag    map[string]json.RawMessage // _meta of its notifications
}

// listenFilter is S26 SubscriptionFilter.
type listenFilter struct {
	ToolsListChanged      bool     `json:"toolsListChanged,omitempty"`
	PromptsListChanged    bool     `json:"promptsListChanged,omitempty"`
	ResourcesListChanged  bool     `json:"resourcesListChanged,omitempty"`
	ResourceSubscriptions []string `json:"resourceSubscriptions,omitempty"`
	// TaskIDs are tasks whose status changes are pushed (tasks_notify.go).
	TaskIDs []string `json:"taskIds,omitempty"`
}

func handleListen(ctx context.Context, s *server, r *request) (any, *jsonrpc.Error) {
	var p struct {
		Notifications *listenFilter `json:"notifications"`
	}
	if e := decodeParams(r.params, &p); e != nil {
		return nil, e
	}
	if p.Notifications == nil {
		return nil, invalidParams("notifications filter required") // [SUB §Filter]
	}
	l := &modernListen{filter: *p.Notifications, tag: map[string]json.RawMessage{mcp.MetaSubscriptionID: r.id}}
	m := s.modern
	m.mu.Lock()
	m.listens[l] = struct{}{}
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.listens, l)
		m.mu.Unlock()
	}()
	// [SUB §Acknowledgment]: everything asked for is honoured.
	s.sendFor(ctx, jsonrpc.NewNotification(mcp.NotificationSubscriptionsAcknowledged,
		jsonrpc.MustRaw(map[string]any{"notifications": l.filter, "_meta": l.tag})))
	<-ctx.Done()
	return nil, nil // cancelled: run sends no response
}

// notifyListens delivers a change notification to the listens that asked
// for it and reports true; other notifications are not its business.
func (s *server) notifyListens(method string, params any) bool {
	var uri string
	switch method {
	case mcp.NotificationToolsListChanged, mcp.NotificationPromptsListChanged, mcp.NotificationResourcesListChanged:
	case mcp.NotificationResourceUpdated:
		if p, ok := params.(map[string]string); ok {
			uri = p["uri"]
		}
	default:
		return false
	}
	m := s.modern
	m.mu.Lock()
	var targets []*modernListen
	for l := range m.listens {
		f := l.filter
		if method == mcp.NotificationToolsListChanged && f.ToolsListChanged ||
			method == mcp.NotificationPromptsListChanged && f.PromptsListChanged ||
			method == mcp.NotificationResourcesListChanged && f.ResourcesListChanged ||
			method == mcp.NotificationResourceUpdated && slices.Contains(f.ResourceSubscriptions, uri) {
			targets = append(targets, l)
		}
	}
	m.mu.Unlock()
	for _, l := range targets {
		out := map[string]any{"_meta": l.tag}
		if uri != "" {
			out["uri"] = uri
		}
		s.send(jsonrpc.NewNotification(method, jsonrpc.MustRaw(out)))
	}
	return true
}
