package ssetransport

import (
	"context"
	"errors"
	"net/http"

	"github.com/mcpgate/mcpgate/internal/mcpsession"
	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/session"
	"github.com/mcpgate/mcpgate/internal/sse"
)

// stream serves GET /sse: it opens a session and writes its stream until
// the client leaves, the session ends, or the gateway shuts down; then the
// session ends with it.
func (h *Handler) stream(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		h.fail(w, r, errMethodGET)
		return
	}
	// The same Accept rule as the Streamable GET stream
	// ([T §Listening for Messages] 2).
	if _, sse := mcpsession.Accepts(r.Header["Accept"]); !sse {
		h.fail(w, r, mcpsession.ErrNotAcceptableSSE)
		return
	}
	if _, ok := mcpsession.VersionHeader(r); !ok {
		h.fail(w, r, mcpsession.ErrVersion)
		return
	}
	ls, err := h.hub.Open(r.Context(), principal.FromContext(r.Context()), TransportName)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// [T1105]: the session lives as long as its SSE connection. Whatever
	// ends the stream ends the session and frees what it held.
	reason := "stream ended"
	defer func() {
		err := h.hub.Delete(context.WithoutCancel(r.Context()), ls.ID(), reason)
		if err != nil && !errors.Is(err, mcpsession.ErrNotFound) {
			h.log.Warn("ending session", "session", session.Short(ls.ID()), "err", err)
		}
	}()

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	c := mcpsession.NewConn(cancel)
	_ = ls.Attach(ctx, mcpsession.StandaloneStream, c, false) // a new session: no one else holds it
	defer func() {
		ls.Detach(mcpsession.StandaloneStream, c)
		c.Close()
	}()
	defer context.AfterFunc(ls.Context(), cancel)()

	sw := sse.Start(w, h.hub.WriteTimeout())
	defer sw.End()
	// [T1105 §HTTP with SSE]: "When a client connects, the server MUST send
	// an endpoint event containing a URI for the client to use for sending
	// messages."
	sw.Event(nil, "endpoint", h.endpoint(ls.ID()))
	before := sw.Written()
	err = sw.Flush()
	ls.CountSent(0, sw.Written()-before)
	if err != nil {
		reason = "connection failed"
		return
	}
	// "Server messages are sent as SSE message events, with the message
	// content encoded as JSON in the event data."
	after, err := h.hub.Pump(ctx, sw, ls, mcpsession.StandaloneStream, 0, mcpsession.PumpOptions{})
	switch {
	case r.Context().Err() != nil:
		reason = "client disconnected"
	case ls.Context().Err() != nil:
		// Ended under the stream (shutdown, expiry, overflow): what its
		// calls answered still goes out before the stream closes.
		reason = "session ended"
		if _, err := h.hub.Drain(sw, ls, mcpsession.StandaloneStream, after); err != nil {
			h.log.Debug("draining stream", "session", session.Short(ls.ID()), "err", err)
		}
	case err != nil:
		reason = "connection failed"
		h.log.Debug("stream failed", "session", session.Short(ls.ID()), "err", err)
	}
}
