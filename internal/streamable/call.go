package streamable

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/mcpgate/mcpgate/internal/eventlog"
	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/mcpsession"
	"github.com/mcpgate/mcpgate/internal/relay"
	"github.com/mcpgate/mcpgate/internal/session"
	"github.com/mcpgate/mcpgate/internal/sse"
)

// A POST that carries requests is answered by a postCall. The handler
// goroutine runs the core itself, so a call that answers at once costs no
// goroutine and no event-log traffic: its response goes out as JSON
// ([T §Sending Messages] 5). The first related message the core sends, or a
// heartbeat interval without a response, opens a stream in the event log and
// starts a tail goroutine that writes it as SSE; from then on the responses
// go through the stream too, and the handler waits for the tail before it
// returns.
//
//	handler goroutine: core.HandleRequest ─────────────▶ finish: JSON, or Complete(stream)
//	                        │ out.Send / heartbeat timer            and wait for the tail
//	                        ▼
//	                   openStream: eventlog.Create, go tail ──▶ SSE: priming, events, end
type postCall struct {
	h   *Handler
	ls  *mcpsession.Live
	w   http.ResponseWriter
	r   *http.Request
	ctx context.Context // the calls' context: &cc
	cc  mcpsession.CallCtx
	one [1][]byte // the response of a lone request

	mu       sync.Mutex // guards mode, stream and tailDone
	mode     callMode
	stream   string        // the stream, once mode is modeSSE
	tailDone chan struct{} // closed when the tail goroutine has returned

	sentID bool // the client learnt an event ID; written by the tail before tailDone closes
}

var _ relay.Stream = (*postCall)(nil)

type callMode uint8

const (
	modeJSON callMode = iota // nothing sent yet: the responses may go out as one JSON body
	modeSSE                  // a stream and its tail exist
	modeDone                 // the responses are being written as JSON
)

var (
	errCallDone     = errors.New("the request has been answered")
	errSessionEnded = errors.New("the session has ended")
)

// serveCalls answers the requests of one POST.
func (h *Handler) serveCalls(w http.ResponseWriter, r *http.Request, ls *mcpsession.Live, reqs []*jsonrpc.Message, isBatch bool) {
	if !h.hub.Enter(false) {
		h.fail(w, r, errShuttingDown)
		return
	}
	defer h.hub.Leave()
	if !h.hub.StartCall(ls) {
		h.fail(w, r, errTooManyCalls)
		return
	}
	defer ls.EndCall()

	pc := &postCall{h: h, ls: ls, w: w, r: r, cc: mcpsession.NewCallCtx(ls, r.Context())}
	pc.ctx = &pc.cc
	var timer *slowTimer
	if hb := h.hub.Heartbeat(); hb > 0 {
		// A slow call gets an SSE stream, so heartbeats can flow.
		timer = h.armSlow(pc, hb)
	}
	resps := pc.one[:]
	if len(reqs) > 1 {
		resps = make([][]byte, len(reqs))
	}
	if len(reqs) == 1 {
		resps[0] = h.call(pc.ctx, ls, reqs[0], pc)
	} else {
		var wg sync.WaitGroup
		for i := 1; i < len(reqs); i++ {
			wg.Go(func() { resps[i] = h.call(pc.ctx, ls, reqs[i], pc) })
		}
		resps[0] = h.call(pc.ctx, ls, reqs[0], pc)
		wg.Wait()
	}
	if timer != nil {
		h.disarmSlow(timer)
	}
	pc.finish(resps, isBatch)
}

// Send implements relay.Stream for the messages related to the POST's
// requests: it opens the stream if need be and appends msg.
func (pc *postCall) Send(msg *jsonrpc.Message) error {
	if msg.Kind() == jsonrpc.KindResponse {
		return mcpsession.ErrResponseOnStream
	}
	stream, err := pc.streamFor()
	if err != nil {
		return fmt.Errorf("sending %s: %w", msg.Kind(), err)
	}
	if _, err := pc.h.events.Append(pc.ctx, pc.ls.ID(), stream, jsonrpc.Encode(msg)); err != nil {
		return fmt.Errorf("sending %s on stream %s: %w", msg.Kind(), stream, err)
	}
	return nil
}

// openStream switches to SSE (the heartbeat timer calls it).
func (pc *postCall) openStream() { _, _ = pc.streamFor() }

// streamFor returns the call's stream, creating it and starting its tail on
// first use. It fails once the responses are being written as JSON, or if
// the event log refuses a new stream (the JSON path stays open then).
func (pc *postCall) streamFor() (string, error) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	switch pc.mode {
	case modeSSE:
		return pc.stream, nil
	case modeDone:
		return "", errCallDone
	}
	if err := pc.ls.Context().Err(); err != nil {
		return "", errSessionEnded
	}
	stream := eventlog.NewStreamID()
	if err := pc.h.events.Create(pc.ctx, pc.ls.ID(), stream); err != nil {
		pc.h.log.Warn("opening stream", "session", session.Short(pc.ls.ID()), "err", err)
		return "", err
	}
	if pc.ls.Context().Err() != nil {
		// The session ended (and its streams were deleted) meanwhile:
		// leave nothing behind.
		pc.h.deleteStream(pc.ls.ID(), stream)
		return "", errSessionEnded
	}
	pc.h.hub.Enter(true)
	pc.mode, pc.stream, pc.tailDone = modeSSE, stream, make(chan struct{})
	go pc.tail(stream)
	return stream, nil
}

// finish sends the responses: as JSON if no stream was opened, else through
// the stream, whose tail it waits for.
func (pc *postCall) finish(resps [][]byte, isBatch bool) {
	pc.mu.Lock()
	streaming := pc.mode == modeSSE
	if !streaming {
		pc.mode = modeDone
	}
	pc.mu.Unlock()
	h, ls := pc.h, pc.ls

	if !streaming {
		switch {
		case ls.Context().Err() == nil:
			n := writeResponses(pc.w, resps, isBatch)
			ls.CountSent(len(resps), int64(n))
		case h.hub.IsClosing():
			h.fail(pc.w, pc.r, errShuttingDown) // cancelled by Shutdown
		default:
			h.fail(pc.w, pc.r, errSessionNotFound) // the session ended under the request
		}
		return
	}
	// The responses and the end of the stream land together, so a reader
	// sees neither or both.
	err := h.events.Complete(context.WithoutCancel(pc.ctx), ls.ID(), pc.stream, resps...)
	if err != nil && !errors.Is(err, eventlog.ErrNotFound) {
		h.log.Warn("completing stream", "session", session.Short(ls.ID()), "stream", pc.stream, "err", err)
	}
	<-pc.tailDone
	if !pc.sentID {
		// The client never learnt an event ID of this stream (it left
		// before the first one): nobody can resume it.
		h.deleteStream(ls.ID(), pc.stream)
	}
}

// tail writes the stream as the SSE response of the POST, until the
// responses are out, the client leaves, a resumption takes the stream over,
// or the session ends.
func (pc *postCall) tail(stream string) {
	defer close(pc.tailDone)
	defer pc.h.hub.Leave()
	if hook := pc.h.testHookTailEnded; hook != nil {
		defer hook()
	}
	h, ls := pc.h, pc.ls
	ctx, cancel := context.WithCancel(pc.r.Context())
	defer cancel()
	c := mcpsession.NewConn(cancel)
	_ = ls.Attach(ctx, stream, c, false) // a new stream: no one else holds it
	defer func() {
		ls.Detach(stream, c)
		c.Close()
	}()
	defer context.AfterFunc(ls.Context(), cancel)()

	sw := sse.Start(pc.w, h.hub.WriteTimeout())
	defer sw.End()
	if mcp.SendsPriming(ls.Version()) {
		// 2025-11-25: prime the client with an event ID (and the retry
		// interval) at once, so it can resume from the start
		// ([T §Sending Messages] 6).
		sw.Prime(eventlog.AppendEventID(nil, stream, 0), h.opts.Retry)
		pc.sentID = true
	}
	if err := h.flush(sw, ls); err != nil {
		return
	}
	if end, _ := h.hub.Pump(ctx, sw, ls, stream, 0, mcpsession.PumpOptions{IDs: true}); end > 0 {
		pc.sentID = true
	}
}
