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
//
// The stream is written from a small stack frame (serve) with the
// request's checks in their own call (open): an idle stream parks its
// connection's goroutine for as long as it lasts, and a shallow stack lets
// the runtime shrink that goroutine's stack (the larger part of what an
// idle stream costs).
func (h *Handler) stream(w http.ResponseWriter, r *http.Request) {
	s := h.open(w, r)
	if s == nil {
		return
	}
	defer s.closeUnlessParked()
	s.serve()
}

// legacyStream is the state of one GET /sse.
type legacyStream struct {
	h      *Handler
	w      http.ResponseWriter
	r      *http.Request
	ls     *mcpsession.Live
	ctx    context.Context // ends with the request, the session, or a takeover
	cancel context.CancelFunc
	conn   *mcpsession.Conn
	stop   func() bool     // stops the AfterFunc that ties ctx to the session
	sw     *sse.Writer     // nil until the response has started
	reason string          // why the session ends
	parked bool            // the hub took the stream over (mcpsession.Parking)
	values context.Context // the request's values, once parked (r is dropped)
}

// open checks the request and opens the session; on failure it writes the
// error and returns nil.
//
//go:noinline
func (h *Handler) open(w http.ResponseWriter, r *http.Request) *legacyStream {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		h.fail(w, r, errMethodGET)
		return nil
	}
	// The same Accept rule as the Streamable GET stream
	// ([T §Listening for Messages] 2).
	if _, sse := mcpsession.Accepts(r.Header["Accept"]); !sse {
		h.fail(w, r, mcpsession.ErrNotAcceptableSSE)
		return nil
	}
	if _, ok := mcpsession.VersionHeader(r); !ok {
		h.fail(w, r, mcpsession.ErrVersion)
		return nil
	}
	ls, err := h.hub.Open(r.Context(), principal.FromContext(r.Context()), TransportName)
	if err != nil {
		h.fail(w, r, err)
		return nil
	}
	// [T1105]: the session lives as long as its SSE connection. Whatever
	// ends the stream ends the session and frees what it held (close).
	s := &legacyStream{h: h, w: w, r: r, ls: ls, reason: "stream ended"}
	s.ctx, s.cancel = context.WithCancel(r.Context())
	s.conn = mcpsession.NewConn(s.cancel)
	_ = ls.Attach(s.ctx, mcpsession.StandaloneStream, s.conn, false) // a new session: no one else holds it
	s.stop = context.AfterFunc(ls.Context(), s.cancel)
	return s
}

// serve writes the endpoint event, then the session's messages.
func (s *legacyStream) serve() {
	if s.h.hub.MayPark(s.r) {
		s.w.Header().Set("Connection", "close")
	}
	s.sw = sse.Start(s.w, s.h.hub.WriteTimeout())
	// [T1105 §HTTP with SSE]: "When a client connects, the server MUST send
	// an endpoint event containing a URI for the client to use for sending
	// messages."
	s.sw.Event(nil, "endpoint", s.h.endpoint(s.ls.ID()))
	before := s.sw.Written()
	err := s.sw.Flush()
	s.ls.CountSent(0, s.sw.Written()-before)
	if err != nil {
		s.reason = "connection failed"
		return
	}
	// "Server messages are sent as SSE message events, with the message
	// content encoded as JSON in the event data."
	// Once it has written what the stream holds, the hub may park it: the
	// handler then returns and the hub writes the stream on, draining it
	// when the session ends under it, as ended does here.
	after, err := s.h.hub.Pump(s.ctx, s.sw, s.ls, mcpsession.StandaloneStream, 0, mcpsession.PumpOptions{Park: s.parking()})
	if errors.Is(err, mcpsession.ErrParked) {
		s.parked = true
		return
	}
	s.ended(after, err)
}

//go:noinline
func (s *legacyStream) parking() *mcpsession.Parking {
	return &mcpsession.Parking{
		Request:    s.r,
		Conn:       s.conn,
		DrainOnEnd: true,
		Parked:     s.release,
		Done:       s.parkedDone,
	}
}

// release drops what ties the stream to its request, once parked: what
// the parked stream keeps alive must not keep the request, its response
// writer and net/http's buffers with it.
func (s *legacyStream) release() {
	s.stop()
	s.cancel()
	s.values = context.WithoutCancel(s.r.Context())
	s.sw, s.w, s.r, s.ctx = nil, nil, nil, nil // the writer is the hub's now
}

// parkedDone ends the session once its parked stream has ended.
func (s *legacyStream) parkedDone(reason string) {
	s.reason = reason
	s.close()
}

// closeUnlessParked ends the stream and the session when the handler
// returns, unless the hub took the stream over.
func (s *legacyStream) closeUnlessParked() {
	if !s.parked {
		s.close()
	}
}

// ended records why the stream ended; a session that ended under the
// stream (shutdown, expiry, overflow) still gets what its calls answered
// before the stream closes.
//
//go:noinline
func (s *legacyStream) ended(after uint64, err error) {
	switch {
	case s.r.Context().Err() != nil:
		s.reason = "client disconnected"
	case s.ls.Context().Err() != nil:
		s.reason = "session ended"
		if _, err := s.h.hub.Drain(s.sw, s.ls, mcpsession.StandaloneStream, after); err != nil {
			s.h.log.Debug("draining stream", "session", session.Short(s.ls.ID()), "err", err)
		}
	case err != nil:
		s.reason = "connection failed"
		s.h.log.Debug("stream failed", "session", session.Short(s.ls.ID()), "err", err)
	}
}

// close ends the stream and then the session, in the order the handler's
// defers did: the session's AfterFunc, the writer, the connection, the
// context, the session.
//
//go:noinline
func (s *legacyStream) close() {
	s.stop()
	if s.sw != nil {
		s.sw.End()
	}
	s.ls.Detach(mcpsession.StandaloneStream, s.conn)
	s.conn.Close()
	s.cancel()
	values := s.values
	if values == nil {
		values = context.WithoutCancel(s.r.Context())
	}
	err := s.h.hub.Delete(values, s.ls.ID(), s.reason)
	if err != nil && !errors.Is(err, mcpsession.ErrNotFound) {
		s.h.log.Warn("ending session", "session", session.Short(s.ls.ID()), "err", err)
	}
}
