package relay

import (
	"encoding/json"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// Progress for a session client while the gateway polls a task for it
// (docs/protocol-eras.md §4.6, §10 increment 7). A Task carries no
// progress numbers, only its status and an optional statusMessage
// ("progress descriptions for working" [TASKS §Tasks]). When the session's
// call asked for progress (a progressToken in its _meta), each poll whose
// status or statusMessage differs from the last one reported becomes a
// notifications/progress on the call's stream: progress counts the changes
// (1, 2, …: increasing, as [PR §Behavior Requirements] want), no total,
// message = the statusMessage (or the status when there is none). Progress
// the upstream itself sends with the call's token keeps today's path
// (upstreamProgress: the call is in flight while its task is polled); an
// upstream that does both would interleave two counts on one token, which
// no known 2026 server does (an HTTP one cannot: it has no stream outside
// a request).

// taskProgress is what a taskDriver last reported.
type taskProgress struct {
	n               int
	status, message string
}

// report sends progress for t's status if it changed and the call has a
// progress token.
func (d *taskDriver) report(t *upstreamTask) {
	tok := d.cl.clientToken
	if len(tok) == 0 || string(tok) == "null" {
		return
	}
	p := &d.progress
	if t.Status == p.status && t.StatusMessage == p.message {
		return
	}
	p.n++
	p.status, p.message = t.Status, t.StatusMessage
	msg := t.StatusMessage
	if msg == "" {
		msg = "task " + t.Status
	}
	params := jsonrpc.MustRaw(struct {
		ProgressToken json.RawMessage `json:"progressToken"`
		Progress      int             `json:"progress"`
		Message       string          `json:"message"`
	}{tok, p.n, msg})
	if err := d.cl.out.Send(jsonrpc.NewNotification(mcp.NotificationProgress, params)); err != nil {
		d.r.log.Debug("task progress not delivered", "upstream", d.cl.upstream, "err", err)
	}
}
