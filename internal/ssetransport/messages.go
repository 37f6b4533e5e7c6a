package ssetransport

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/mcpgate/mcpgate/internal/eventlog"
	"github.com/mcpgate/mcpgate/internal/httpfront"
	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/mcpsession"
	"github.com/mcpgate/mcpgate/internal/principal"
	"github.com/mcpgate/mcpgate/internal/relay"
	"github.com/mcpgate/mcpgate/internal/session"
)

// messages serves POST /messages?sessionId=…: one JSON-RPC message (or a
// batch in 2025-03-26 sessions), answered 202 Accepted; responses go on
// the session's SSE stream ([T1105 §HTTP with SSE]).
func (h *Handler) messages(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		h.fail(w, r, errMethodPOST)
		return
	}
	if vs := r.Header["Accept"]; len(vs) > 0 {
		if j, _ := mcpsession.Accepts(vs); !j {
			h.fail(w, r, errNotAcceptablePOST)
			return
		}
	}
	if !mcpsession.JSONContentType(r.Header.Get("Content-Type")) {
		h.fail(w, r, mcpsession.ErrContentType)
		return
	}
	if _, ok := mcpsession.VersionHeader(r); !ok {
		h.fail(w, r, mcpsession.ErrVersion)
		return
	}
	id, n := sessionParam(r.URL.RawQuery)
	switch {
	case n == 0 || id == "":
		h.fail(w, r, errSessionMissing)
		return
	case n > 1:
		h.fail(w, r, errSessionParam)
		return
	}
	// The session is checked before the body is read, so a request for an
	// unknown session costs no body.
	s, err := h.hub.Resolve(r.Context(), id, principal.FromContext(r.Context()), TransportName)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	buf, herr := mcpsession.ReadBody(w, r, h.opts.MaxBodyBytes)
	if herr != nil {
		h.fail(w, r, herr)
		return
	}
	// Decoded messages are copies (jsonrpc.Decode): the requests that run
	// after the POST is answered do not hold the body's buffer.
	defer mcpsession.PutBuffer(buf)
	ls := h.hub.Lookup(r.Context(), s)
	if ls.Client() == nil {
		h.initialize(w, r, ls, buf.Bytes())
		return
	}
	msgs, _, herr := mcpsession.DecodeMessages(buf.Bytes(), mcp.AllowsBatch(ls.Version()), h.opts.MaxBatch)
	if herr != nil {
		h.fail(w, r, herr)
		return
	}
	requests := 0
	for _, m := range msgs {
		if m.Kind() == jsonrpc.KindRequest {
			requests++
		}
	}
	if requests > 0 {
		if !h.startCalls(ls, requests) {
			h.fail(w, r, mcpsession.ErrTooManyCalls)
			return
		}
		if !h.hub.Enter(false) {
			h.endCalls(ls, requests)
			h.fail(w, r, mcpsession.ErrShuttingDown)
			return
		}
	}
	// Notifications and responses are taken before the 202, as on /mcp;
	// they must not end with the HTTP request.
	c := ls.Client()
	for _, m := range msgs {
		switch m.Kind() {
		case jsonrpc.KindNotification:
			h.core.HandleNotification(context.WithoutCancel(r.Context()), c, m)
		case jsonrpc.KindResponse:
			h.core.HandleResponse(context.WithoutCancel(r.Context()), c, m)
		}
	}
	w.WriteHeader(http.StatusAccepted)
	if requests == 0 {
		return
	}
	// The hub counts the POST's requests (Enter above), so Shutdown waits
	// for them, and the session's end cancels its calls. Their responses
	// go on the stream, so the 202 need not wait for them, and must not
	// wait long: a client may send its messages one at a time (the
	// Python SDK's legacy client does), a cancellation among them. On the
	// fast lane this goroutine runs them and the 202 is held until they
	// are answered or httpfront.DefaultMaxHold (2 ms) has passed, or a
	// call sends the client a message of its own, which may be a request
	// the client answers in a POST (docs/performance.md "Tenth pass":
	// a quick call then costs no hand-off to another goroutine, here or
	// in the client, which finds its response already read when the 202
	// comes). Elsewhere one of the hub's workers runs them.
	ctx := mcpsession.CallContext(ls, r.Context())
	if held, ok := httpfront.Hold(w); ok {
		h.serveCalls(ctx, ls, msgs, held.Release)
		return
	}
	h.hub.Go(func() { h.serveCalls(ctx, ls, msgs, nil) })
}

// releasing is a call's stream of related messages that first releases
// the POST's held 202: a message to the client may ask for an answer,
// which the client may send only once its POST is answered.
type releasing struct {
	relay.Stream
	release func()
}

func (s *releasing) Send(msg *jsonrpc.Message) error {
	s.release()
	return s.Stream.Send(msg)
}

// startCalls counts n calls in ls in, all or none.
func (h *Handler) startCalls(ls *mcpsession.Live, n int) bool {
	for i := range n {
		if !h.hub.StartCall(ls) {
			h.endCalls(ls, i)
			return false
		}
	}
	return true
}

func (h *Handler) endCalls(ls *mcpsession.Live, n int) {
	for range n {
		ls.EndCall()
	}
}

// serveCalls answers the requests among msgs, each on its own goroutine
// but the first, and sends every response on the session's stream. A
// request stops counting against the session's bound on calls once the
// core has answered it, before its response is sent. release, if not nil,
// runs before a call sends the client a related message.
func (h *Handler) serveCalls(ctx context.Context, ls *mcpsession.Live, msgs []*jsonrpc.Message, release func()) {
	defer h.hub.Leave()
	out := ls.Client().Standalone // related messages go on the one stream too
	if release != nil {
		out = &releasing{Stream: out, release: release}
	}
	serve := func(m *jsonrpc.Message) {
		resp := h.hub.Call(ctx, ls, m, out)
		ls.EndCall()
		h.respond(ctx, ls, m, resp)
	}
	var first *jsonrpc.Message
	var wg sync.WaitGroup
	for _, m := range msgs {
		if m.Kind() != jsonrpc.KindRequest {
			continue
		}
		if first == nil {
			first = m
			continue
		}
		wg.Go(func() { serve(m) })
	}
	serve(first)
	wg.Wait()
}

// respond appends a response to the session's stream. A nil response (the
// client cancelled the request) sends nothing.
func (h *Handler) respond(ctx context.Context, ls *mcpsession.Live, req *jsonrpc.Message, resp []byte) {
	if resp == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	// On a hub worker: when the stream is parked, this goroutine writes the
	// response to the client too (Hub.Append).
	err := h.hub.Append(ctx, ls, mcpsession.StandaloneStream, resp)
	if errors.Is(err, eventlog.ErrTooLarge) {
		// The stream cannot carry it: tell the client, in a message it can.
		h.log.Warn("response larger than the stream's event limit", "session", session.Short(ls.ID()),
			"method", req.Method, "bytes", len(resp))
		_, err = h.events.Append(ctx, ls.ID(), mcpsession.StandaloneStream, jsonrpc.Encode(jsonrpc.NewErrorResponse(req.ID,
			jsonrpc.NewError(jsonrpc.CodeInternalError, "Internal error: the response exceeds the gateway's event size limit"))))
	}
	switch {
	case err == nil, errors.Is(err, eventlog.ErrNotFound):
		// Delivered, or the session has ended: nobody is left to tell.
	default:
		// The stream is full of events the client has not read: it is not
		// reading, and a response cannot be dropped silently.
		h.log.Warn("session stream refused a response; ending the session", "session", session.Short(ls.ID()), "err", err)
		if err := h.hub.Delete(ctx, ls.ID(), "stream full: the client is not reading"); err != nil && !errors.Is(err, mcpsession.ErrNotFound) {
			h.log.Warn("ending session", "session", session.Short(ls.ID()), "err", err)
		}
	}
}

// initialize serves a POST to a session that awaits its initialize: only a
// lone initialize request is taken ([L §Initialization]: it MUST be the
// first interaction). Its response goes on the stream before the 202.
func (h *Handler) initialize(w http.ResponseWriter, r *http.Request, ls *mcpsession.Live, body []byte) {
	msgs, _, rpcErr := jsonrpc.DecodeBatch(body, false)
	if rpcErr != nil {
		h.fail(w, r, mcpsession.DecodeError(rpcErr))
		return
	}
	m := msgs[0]
	if m.Method != mcp.MethodInitialize || m.Kind() != jsonrpc.KindRequest {
		h.fail(w, r, errNotInitialized)
		return
	}
	res, rpcErr, err := h.hub.InitializeOpen(r.Context(), ls, m.Params)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	resp := jsonrpc.NewErrorResponse(m.ID, rpcErr)
	if rpcErr == nil {
		resp = jsonrpc.NewResponse(m.ID, res.Result)
	}
	if _, err := h.events.Append(r.Context(), ls.ID(), mcpsession.StandaloneStream, jsonrpc.Encode(resp)); err != nil {
		if errors.Is(err, eventlog.ErrNotFound) {
			err = mcpsession.ErrNotFound // the session ended meanwhile
		}
		h.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}
