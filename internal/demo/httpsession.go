package demo

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/mcpgate/mcpgate/internal/httpkit"
	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// httpSession is one session of the session era: a demo server of its
// own, as if a client had started the demo over stdio.
type httpSession struct {
	id     string
	srv    *server
	ctx    context.Context // ends with the session
	cancel context.CancelFunc
	log    *slog.Logger

	active sync.WaitGroup // POSTs dispatching to srv (enter, leave)

	mu sync.Mutex // guards the fields below
	// get is the standalone GET stream; nil when none is open.
	get *exchange
	// held are the messages for the GET stream sent while none was open
	// (the client opens it after initialize), at most maxHeld, oldest
	// dropped first; the next GET stream starts with them.
	held []*jsonrpc.Message
	// lastUsed is when the last request arrived or ended.
	lastUsed time.Time
	// inflight counts the POSTs being served.
	inflight int
	// ended is set by end: nothing new is dispatched.
	ended bool
}

func (h *HTTPHandler) newSession() *httpSession {
	s := &httpSession{id: newSessionID(), lastUsed: time.Now(), log: h.log}
	s.ctx, s.cancel = context.WithCancel(h.ctx)
	s.srv = newServer(h.srvOpts, nil)
	s.srv.deliver = s.deliver
	return s
}

// maxHeld bounds httpSession.held.
const maxHeld = 64

// deliver routes a message no request owns (list_changed, resource
// updates) to the GET stream [T §Listening for Messages from the Server:
// messages unrelated to a request], or holds it until one opens.
func (s *httpSession) deliver(m *jsonrpc.Message) {
	s.mu.Lock()
	g := s.get
	if g == nil {
		if len(s.held) == maxHeld {
			s.log.Debug("message dropped: no GET stream", "method", s.held[0].Method)
			s.held = s.held[1:]
		}
		s.held = append(s.held, m)
	}
	s.mu.Unlock()
	if g != nil && !g.push(m) {
		s.log.Debug("message dropped: the GET stream is closing", "method", m.Method)
	}
}

// enter counts a POST; false once the session has ended.
func (s *httpSession) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return false
	}
	s.active.Add(1)
	s.inflight++
	s.lastUsed = time.Now()
	return true
}

func (s *httpSession) leave() {
	s.mu.Lock()
	s.inflight--
	s.lastUsed = time.Now()
	s.mu.Unlock()
	s.active.Done()
}

// end ends the session: its streams close, its requests are cancelled and
// waited for, and its server stops. The caller has removed it from the
// handler's table.
func (s *httpSession) end() {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended = true
	s.mu.Unlock()
	s.cancel()
	s.active.Wait()
	s.srv.shutdown()
}

// idle reports whether the session has been unused since before t.
func (s *httpSession) idle(t time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inflight == 0 && s.get == nil && s.lastUsed.Before(t)
}

// session returns the session a request names: errNoSession without the
// header [T §Session Management 3: SHOULD respond 400], errUnknown for an
// ID that is not (or no longer) open [§Session Management 4: MUST 404],
// errVersion for an MCP-Protocol-Version other than the negotiated one
// [T §Protocol Version Header: MUST respond 400].
func (h *HTTPHandler) session(r *http.Request) (*httpSession, *httpkit.Error) {
	ids := r.Header[mcp.HeaderSessionID]
	switch {
	case len(ids) == 0 || len(ids) == 1 && ids[0] == "":
		return nil, errNoSession
	case len(ids) > 1:
		return nil, errBadSession
	}
	h.mu.Lock()
	s := h.sessions[ids[0]]
	h.mu.Unlock()
	if s == nil {
		return nil, errUnknown
	}
	if vs := r.Header[mcp.HeaderProtocolVersion]; len(vs) > 0 {
		// Absent, the client is assumed to speak what it negotiated.
		if v, _ := s.srv.negotiated(); len(vs) > 1 || vs[0] != v {
			return nil, errVersion
		}
	}
	return s, nil
}

// post serves a POST: initialize, a request, or a notification or
// response for a session; in the modern era, one stateless request.
func (h *HTTPHandler) post(w http.ResponseWriter, r *http.Request) {
	m, herr := h.readMessage(w, r)
	if herr != nil {
		writeHTTPError(w, r, herr)
		return
	}
	if h.modern != nil {
		h.postModern(w, r, m) // httpmodern.go
		return
	}
	_, hasSession := r.Header[mcp.HeaderSessionID]
	if m.Method == mcp.MethodInitialize && m.IsRequest() {
		if hasSession {
			writeErrorFor(w, errInitialize, m.ID)
			return
		}
		h.initialize(w, r, m)
		return
	}
	s, herr := h.session(r)
	if herr != nil {
		writeErrorFor(w, herr, m.ID)
		return
	}
	if !s.enter() {
		writeErrorFor(w, errUnknown, m.ID)
		return
	}
	defer s.leave()
	if !m.IsRequest() {
		// [T §Sending Messages to the Server 4]: a notification or a
		// response is accepted with 202 and no body.
		s.srv.handleMessage(s.ctx, m, nil)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	// Disconnection is not cancellation [T §Sending Messages to the Server]:
	// the request runs on the session's context; notifications/cancelled
	// cancels it.
	h.serveRequest(w, r, s.srv, s.ctx, m, newExchange(), nil) // httpstream.go
}

// initialize opens a session: a new demo server answers the initialize,
// and only a successful answer keeps it, with its ID in Mcp-Session-Id
// [T §Session Management 1].
func (h *HTTPHandler) initialize(w http.ResponseWriter, r *http.Request, m *jsonrpc.Message) {
	h.mu.Lock()
	full := len(h.sessions) >= h.opts.MaxSessions
	h.mu.Unlock()
	if full {
		writeHTTPError(w, r, errTooMany)
		return
	}
	s := h.newSession()
	e := newExchange()
	// initialize is answered inline (dispatch.go), so its response is here.
	s.srv.handleMessage(withSink(s.ctx, e), m, e.finish)
	_, resp, ended := e.take()
	e.leave()
	if !ended || resp == nil || resp.Error != nil {
		s.end()
		if resp == nil {
			resp = jsonrpc.NewErrorResponse(m.ID, jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error"))
		}
		writeJSONMessage(w, http.StatusOK, resp)
		return
	}
	h.mu.Lock()
	switch {
	case h.closed:
		herr := errStopping
		h.mu.Unlock()
		s.end()
		writeHTTPError(w, r, herr)
		return
	case len(h.sessions) >= h.opts.MaxSessions:
		h.mu.Unlock()
		s.end()
		writeHTTPError(w, r, errTooMany)
		return
	}
	h.sessions[s.id] = s
	h.mu.Unlock()
	w.Header()[mcp.HeaderSessionID] = []string{s.id}
	writeJSONMessage(w, http.StatusOK, resp)
}

// get serves the session's standalone SSE stream until the client leaves
// or the session ends [T §Listening for Messages from the Server]. The
// modern era has none (405).
func (h *HTTPHandler) get(w http.ResponseWriter, r *http.Request) {
	if h.modern != nil {
		h.methodNotAllowed(w, r)
		return
	}
	if _, sse := accepts(r.Header["Accept"]); !sse {
		writeHTTPError(w, r, errAcceptGet)
		return
	}
	s, herr := h.session(r)
	if herr != nil {
		writeHTTPError(w, r, herr)
		return
	}
	e := newExchange()
	s.mu.Lock()
	switch {
	case s.ended:
		herr = errUnknown
	case s.get != nil:
		herr = errStreamOpen
	default:
		s.get = e
		e.queue, s.held = s.held, nil
	}
	s.mu.Unlock()
	if herr != nil {
		writeHTTPError(w, r, herr)
		return
	}
	defer func() {
		s.mu.Lock()
		if s.get == e {
			s.get = nil
		}
		s.lastUsed = time.Now()
		s.mu.Unlock()
	}()
	h.stream(w, r, s.ctx, e, nil) // httpstream.go
}

// delete ends a session [T §Session Management 5].
func (h *HTTPHandler) delete(w http.ResponseWriter, r *http.Request) {
	if h.modern != nil {
		h.methodNotAllowed(w, r)
		return
	}
	s, herr := h.session(r)
	if herr != nil {
		writeHTTPError(w, r, herr)
		return
	}
	h.mu.Lock()
	delete(h.sessions, s.id)
	h.mu.Unlock()
	s.end()
	w.WriteHeader(http.StatusNoContent)
}

// sweep ends idle sessions until Close.
func (h *HTTPHandler) sweep() {
	defer close(h.sweeper)
	every := min(max(h.opts.IdleTimeout/4, time.Second), time.Minute)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case now := <-t.C:
			var idle []*httpSession
			h.mu.Lock()
			for id, s := range h.sessions {
				if s.idle(now.Add(-h.opts.IdleTimeout)) {
					delete(h.sessions, id)
					idle = append(idle, s)
				}
			}
			h.mu.Unlock()
			for _, s := range idle {
				h.log.Info("session expired", "idle", h.opts.IdleTimeout)
				s.end()
			}
		}
	}
}
