package streamable

import (
	"context"
	"errors"
	"net/http"

	"github.com/mcpgate/mcpgate/internal/eventlog"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/session"
)

// get opens an SSE stream: the session's standalone stream, or, with
// Last-Event-ID, the rest of the stream that event belongs to
// ([T §Listening for Messages], §Resumability).
func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	// [T §Listening for Messages] 2: Accept MUST list text/event-stream.
	if _, sse := accepts(r.Header["Accept"]); !sse {
		h.fail(w, r, errNotAcceptableGET)
		return
	}
	version, ok := versionHeader(r)
	if !ok {
		h.fail(w, r, errVersion)
		return
	}
	s, herr := h.resolve(r, version)
	if herr != nil {
		h.fail(w, r, herr)
		return
	}
	if !h.enter(false) {
		h.fail(w, r, errShuttingDown)
		return
	}
	defer h.leave()
	ls := h.lookupLive(r.Context(), s)

	stream, after, resume := standaloneStream, uint64(0), false
	if ids, ok := r.Header[keyLastEventID]; ok {
		// [T §Resumability] 2: replay after Last-Event-ID on the stream it
		// belongs to, and never another stream's messages: the ID names
		// its stream, and only this session's streams are looked up.
		if len(ids) != 1 {
			h.fail(w, r, errLastEventID)
			return
		}
		var err error
		if stream, after, err = eventlog.ParseEventID(ids[0]); err != nil {
			h.fail(w, r, errLastEventID)
			return
		}
		info, err := h.events.Stat(r.Context(), ls.id, stream)
		if err != nil || after > info.Last || after+1 < info.First {
			if err != nil && !errors.Is(err, eventlog.ErrNotFound) {
				h.failErr(w, r, err)
				return
			}
			h.fail(w, r, errLastEventID)
			return
		}
		resume = true
	}
	standalone := stream == standaloneStream

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	c := &conn{cancel: cancel, done: make(chan struct{})}
	// One connection per stream. A plain second GET conflicts; a
	// resumption takes the stream over.
	if err := ls.attach(ctx, stream, c, resume); err != nil {
		close(c.done)
		if errors.Is(err, errConflict) {
			h.fail(w, r, errConflict)
		}
		return
	}
	defer func() {
		ls.detach(stream, c)
		close(c.done)
	}()
	defer context.AfterFunc(ls.ctx, cancel)()
	if standalone {
		defer context.AfterFunc(h.closingCtx, cancel)()
	}
	if !resume {
		// Start after what earlier GET connections were given.
		info, err := h.events.Stat(ctx, ls.id, stream)
		switch {
		case errors.Is(err, eventlog.ErrNotFound) && ls.ctx.Err() != nil:
			h.fail(w, r, errSessionNotFound) // the session ended meanwhile
			return
		case err != nil:
			h.failErr(w, r, err)
			return
		}
		after = info.Delivered
	}

	sw := startSSE(w)
	if mcp.SendsPriming(ls.version) {
		sw.prime(stream, after, h.opts.Retry) // [T §Sending Messages] 6, [T §Listening for Messages] 4
	}
	if sw.flush() != nil {
		return
	}
	_, _ = h.pump(ctx, sw, ls, stream, after)
}

// delete ends the session ([T §Session Management] 5); later requests with
// its ID get 404 (§Session Management 3).
func (h *Handler) delete(w http.ResponseWriter, r *http.Request) {
	version, ok := versionHeader(r)
	if !ok {
		h.fail(w, r, errVersion)
		return
	}
	s, herr := h.resolve(r, version)
	if herr != nil {
		h.fail(w, r, herr)
		return
	}
	if err := h.sessions.Delete(r.Context(), s.ID); err != nil {
		if errors.Is(err, session.ErrNotFound) {
			h.fail(w, r, errSessionNotFound)
		} else {
			h.failErr(w, r, err)
		}
		return
	}
	h.endSession(r.Context(), s.ID, "deleted by client")
	w.WriteHeader(http.StatusNoContent)
}
