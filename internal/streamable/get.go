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
//
// The stream is written from a small stack frame (serve), with the
// request's checks in their own call (openGet): an idle stream parks its
// connection's goroutine for as long as it lasts, and a shallow stack lets
// the runtime shrink that goroutine's stack (the larger part of what an
// idle stream costs).
func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	s := h.openGet(w, r)
	if s == nil {
		return
	}
	defer s.closeUnlessParked()
	s.serve()
}

// getStream is the state of one GET stream.
type getStream struct {
	h      *Handler
	w      http.ResponseWriter
	r      *http.Request
	ls     *mcpsession.Live
	stream string
	after  uint64
	ctx    context.Context // ends with the request, the session, a takeover, or (standalone) shutdown
	cancel context.CancelFunc
	conn   *mcpsession.Conn
	stops  [2]func() bool // the AfterFuncs that tie ctx to the session and to shutdown
	parked bool           // the hub took the stream over (mcpsession.Parking)
}

// openGet checks the request and attaches the stream's connection; on
// failure it writes the error, releases what it took and returns nil.
//
//go:noinline
func (h *Handler) openGet(w http.ResponseWriter, r *http.Request) *getStream {
	// [T §Listening for Messages] 2: Accept MUST list text/event-stream.
	if _, sse := mcpsession.Accepts(r.Header["Accept"]); !sse {
		h.fail(w, r, errNotAcceptableGET)
		return nil
	}
	version, ok := mcpsession.VersionHeader(r)
	if !ok {
		h.fail(w, r, errVersion)
		return nil
	}
	s, herr := h.resolve(r, version)
	if herr != nil {
		h.fail(w, r, herr)
		return nil
	}
	if !h.hub.Enter(false) {
		h.fail(w, r, errShuttingDown)
		return nil
	}
	ls := h.hub.Lookup(r.Context(), s)

	stream, after, resume := mcpsession.StandaloneStream, uint64(0), false
	if ids, ok := r.Header[keyLastEventID]; ok {
		// [T §Resumability] 2: replay after Last-Event-ID on the stream it
		// belongs to, and never another stream's messages: the ID names
		// its stream, and only this session's streams are looked up.
		if len(ids) != 1 {
			h.fail(w, r, errLastEventID)
			h.hub.Leave()
			return nil
		}
		var err error
		if stream, after, err = eventlog.ParseEventID(ids[0]); err != nil {
			h.fail(w, r, errLastEventID)
			h.hub.Leave()
			return nil
		}
		info, err := h.events.Stat(r.Context(), ls.ID(), stream)
		if err != nil || after > info.Last || after+1 < info.First {
			if err != nil && !errors.Is(err, eventlog.ErrNotFound) {
				h.failErr(w, r, err)
			} else {
				h.fail(w, r, errLastEventID)
			}
			h.hub.Leave()
			return nil
		}
		resume = true
	}

	g := &getStream{h: h, w: w, r: r, ls: ls, stream: stream, after: after}
	g.ctx, g.cancel = context.WithCancel(r.Context())
	g.conn = mcpsession.NewConn(g.cancel)
	// One connection per stream. A plain second GET conflicts; a
	// resumption takes the stream over.
	if err := ls.Attach(g.ctx, stream, g.conn, resume); err != nil {
		g.conn.Close()
		if errors.Is(err, errConflict) {
			h.fail(w, r, errConflict)
		}
		g.cancel()
		h.hub.Leave()
		return nil
	}
	g.stops[0] = context.AfterFunc(ls.Context(), g.cancel)
	if stream == mcpsession.StandaloneStream {
		g.stops[1] = context.AfterFunc(h.hub.Closing(), g.cancel)
	}
	if !resume {
		// Start after what earlier GET connections were given.
		info, err := h.events.Stat(g.ctx, ls.ID(), stream)
		switch {
		case errors.Is(err, eventlog.ErrNotFound) && ls.Context().Err() != nil:
			h.fail(w, r, errSessionNotFound) // the session ended meanwhile
			g.close()
			return nil
		case err != nil:
			h.failErr(w, r, err)
			g.close()
			return nil
		}
		g.after = info.Delivered
	}
	return g
}

// serve writes the priming event, then the stream's events. Once it has
// written what the stream holds, the hub may park it: the handler then
// returns and the hub writes the stream on (see mcpsession.Parking).
func (g *getStream) serve() {
	sw := g.start()
	if sw.Err() != nil {
		sw.End()
		return
	}
	_, err := g.h.hub.Pump(g.ctx, sw, g.ls, g.stream, g.after, mcpsession.PumpOptions{IDs: true, Park: g.parking()})
	if errors.Is(err, mcpsession.ErrParked) {
		g.parked = true
		return
	}
	sw.End()
}

// parking says how a parked stream ends: the standalone stream, which
// carries no responses, with Shutdown; a resumed POST stream when it is
// complete or its session ends.
//
//go:noinline
func (g *getStream) parking() *mcpsession.Parking {
	return &mcpsession.Parking{
		Request:      g.r,
		Conn:         g.conn,
		EndOnClosing: g.stream == mcpsession.StandaloneStream,
		Parked:       g.release,
		Done:         g.parkedDone,
	}
}

// release drops what ties the stream to its request, once parked: what
// the parked stream keeps alive must not keep the request, its response
// writer and net/http's buffers with it.
func (g *getStream) release() {
	g.stopAfterFuncs()
	g.stops = [2]func() bool{}
	g.cancel()
	g.w, g.r, g.ctx = nil, nil, nil
}

// parkedDone releases the rest once a parked stream has ended.
func (g *getStream) parkedDone(string) {
	g.ls.Detach(g.stream, g.conn)
	g.conn.Close()
	g.h.hub.Leave()
}

// closeUnlessParked releases the stream when the handler returns, unless
// the hub took it over.
func (g *getStream) closeUnlessParked() {
	if !g.parked {
		g.close()
	}
}

func (g *getStream) stopAfterFuncs() {
	for _, stop := range [2]func() bool{g.stops[1], g.stops[0]} {
		if stop != nil {
			stop()
		}
	}
}

// start sends the headers and the priming event.
//
//go:noinline
func (g *getStream) start() *sse.Writer {
	if g.h.hub.MayPark(g.r) {
		g.w.Header().Set("Connection", "close")
	}
	sw := sse.Start(g.w, g.h.hub.WriteTimeout())
	if mcp.SendsPriming(g.ls.Version()) {
		// [T §Sending Messages] 6, [T §Listening for Messages] 4
		sw.Prime(eventlog.AppendEventID(nil, g.stream, g.after), g.h.opts.Retry)
	}
	_ = g.h.flush(sw, g.ls) // an error stays in sw
	return sw
}

// close releases the stream, in the order the handler's defers did: the
// AfterFuncs, the connection, the context, the hub's count.
//
//go:noinline
func (g *getStream) close() {
	g.stopAfterFuncs()
	g.ls.Detach(g.stream, g.conn)
	g.conn.Close()
	g.cancel()
	g.h.hub.Leave()
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
