package mcpsession

import (
	"context"
	"errors"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/session"
)

// BroadcastResult says what a Broadcast did.
type BroadcastResult struct {
	// Matched is the number of initialized sessions the filter selected.
	Matched int `json:"matched"`
	// Delivered is how many of them took the notification: it is in their
	// standalone stream, and goes out on their open SSE stream (or when
	// the client opens one).
	Delivered int `json:"delivered"`
	// Failed is how many refused it (stream full, session ending).
	Failed int `json:"failed"`
}

// ErrNotNotification: Broadcast was given a message that is not a
// JSON-RPC notification.
var ErrNotNotification = errors.New("broadcast message must be a JSON-RPC notification")

// Broadcast sends a notification to every initialized session of this
// replica that f selects, on both transports: into each session's
// standalone stream, which the Streamable HTTP GET stream and the
// 2024-11-05 stream carry. Sessions still awaiting initialize are skipped:
// a server sends no notifications before initialization. A notification
// goes on exactly one stream per session ([T §Multiple Connections] 2).
func (h *Hub) Broadcast(ctx context.Context, msg *jsonrpc.Message, f Filter) (BroadcastResult, error) {
	if msg.Kind() != jsonrpc.KindNotification {
		return BroadcastResult{}, ErrNotNotification
	}
	data := jsonrpc.Encode(msg) // shared by every log: nobody modifies event data
	var res BroadcastResult
	for _, ls := range h.snapshot() {
		if ls.Client() == nil || !f.Match(ls) {
			continue
		}
		res.Matched++
		if _, err := h.events.Append(ctx, ls.id, StandaloneStream, data); err != nil {
			res.Failed++
			h.log.Debug("broadcast not delivered", "session", session.Short(ls.id), "err", err)
			continue
		}
		res.Delivered++
	}
	h.log.Info("broadcast", "method", msg.Method, "matched", res.Matched, "delivered", res.Delivered, "failed", res.Failed)
	return res, nil
}
