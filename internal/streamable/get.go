package streamable

import (
	"context"
	"errors"
	"net/http"

	"github.com/mcpgate/mcpgate/internal/eventlog"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/mcpsession"
	"github.com/mcpgate/mcpgate/internal/sse"
)

// get opens an SSE stream: the session's standalone stream, or, with
// Last-Event-ID, the rest of the stream that event belongs to
// ([T §Listening for Messages], §Resumability).
func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	// [T §Listening for Messages] 2: Accept MUST list text/event-stream.
	if _, sse := mcpsession.Accepts(r.Header["Accept"]); !sse {
		h.fail(w, r, errNotAcceptableGET)
		return
	}
	version, ok := mcpsession.VersionHeader(r)
	if !ok {
		h.fail(w, r, errVersion)
		return
	}
	s, herr := h.resolve(r, version)
	if herr != nil {
		h.fail(w, r, herr)
		return
	}
	if !h.hub.Enter(false) {
		h.fail(w, r, errShuttingDown)
		return
	}
	defer h.hub.Leave()
	ls := h.hub.Lookup(r.Context(), s)

	stream, after, resume := mcpsession.StandaloneStream, uint64(0), false
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
		info, err := h.events.Stat(r.Context(), ls.ID(), stream)
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
	standalone := stream == mcpsession.StandaloneStream

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	c := mcpsession.NewConn(cancel)
	// One connection per stream. A plain second GET conflicts; a
	// resumption takes the stream over.
	if err := ls.Attach(ctx, stream, c, resume); err != nil {
		c.Close()
		if errors.Is(err, errConflict) {
			h.fail(w, r, errConflict)
		}
		return
	}
	defer func() {
		ls.Detach(stream, c)
		c.Close()
	}()
	defer context.AfterFunc(ls.Context(), cancel)()
	if standalone {
		defer context.AfterFunc(h.hub.Closing(), cancel)()
	}
	if !resume {
		// Start after what earlier GET connections were given.
		info, err := h.events.Stat(ctx, ls.ID(), stream)
		switch {
		case errors.Is(err, eventlog.ErrNotFound) && ls.Context().Err() != nil:
			h.fail(w, r, errSessionNotFound) // the session ended meanwhile
			return
		case err != nil:
			h.failErr(w, r, err)
			return
		}
		after = info.Delivered
	}

	sw := sse.Start(w, h.hub.WriteTimeout())
	defer sw.End()
	if mcp.SendsPriming(ls.Version()) {
		// [T §Sending Messages] 6, [T §Listening for Messages] 4
		sw.Prime(eventlog.AppendEventID(nil, stream, after), h.opts.Retry)
	}
	if h.flush(sw, ls) != nil {
		return
	}
	_, _ = h.hub.Pump(ctx, sw, ls, stream, after, mcpsession.PumpOptions{IDs: true})
}

// delete ends the session ([T §Session Management] 5); later requests with
// its ID get 404 (§Session Management 3).
func (h *Handler) delete(w http.ResponseWriter, r *http.Request) {
	version, ok := mcpsession.VersionHeader(r)
	if !ok {
		h.fail(w, r, errVersion)
		return
	}
	s, herr := h.resolve(r, version)
	if herr != nil {
		h.fail(w, r, herr)
		return
	}
	if err := h.hub.Delete(r.Context(), s.ID, "deleted by client"); err != nil {
		if errors.Is(err, mcpsession.ErrNotFound) {
			h.fail(w, r, errSessionNotFound)
		} else {
			h.failErr(w, r, err)
		}
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
