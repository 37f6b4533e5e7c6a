package remote

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
)

// A Dialer opens one session with the server, delivering everything the
// server sends on it to sink. It does not initialize: the Conn sends
// initialize through the session's Send. ctx bounds the dial only; the
// session lives until it fails or is closed.
type Dialer func(ctx context.Context, sink Sink) (Session, error)

// Session is one MCP session with a remote server, as a wire transport
// provides it.
type Session interface {
	// Send delivers one encoded JSON-RPC message to the server. For a
	// request it may deliver the response (and the messages related to
	// it) to the Sink before it returns, as Streamable HTTP does, or the
	// response may come later on a stream the session reads, as with
	// HTTP+SSE. An error wrapping ErrSessionExpired means the server has
	// forgotten the session, which is then over.
	Send(ctx context.Context, m Outgoing) error
	// Negotiated tells the session the revision the server answered
	// initialize with, before notifications/initialized is sent: Streamable
	// HTTP sends it as MCP-Protocol-Version on every later request
	// [T §Protocol Version Header].
	Negotiated(version string)
	// Ready tells the session that initialization is complete: Streamable
	// HTTP opens its GET stream.
	Ready()
	// Done is closed when the session has ended on its own (its stream
	// lost, the server gone, the session expired); Err then says why.
	Done() <-chan struct{}
	Err() error
	// Close ends the session, telling the server where the transport can
	// (DELETE), and waits, bounded by ctx, for its goroutines.
	Close(ctx context.Context)
}

// Outgoing is one message for Session.Send.
type Outgoing struct {
	// Body is the encoded message. Send must not keep it after returning.
	Body []byte
	// Kind is what Body is.
	Kind jsonrpc.Kind
	// ID is the request's id (Kind request only).
	ID int64
	// Method is the request's or notification's method.
	Method string
}

// Sink receives the messages of one session, on the session's reader
// goroutines.
type Sink interface {
	// Deliver takes one message from the server. It reports whether msg was
	// the response to request id want (0: none is awaited by the caller).
	Deliver(msg *jsonrpc.Message, want int64) bool
}

// attempt is one session and what depends on it: the calls waiting for a
// response on it and the server's requests not yet answered. It is the
// session's Sink.
type attempt struct {
	c *Conn

	mu      sync.Mutex // guards sess, pending, inbound and failed
	sess    Session    // set once dialed
	pending map[int64]chan *jsonrpc.Message
	inbound map[string]struct{} // ids of the server's requests awaiting an answer
	failed  bool                // the session ended: no new pending calls nor background sends
	bg      sync.WaitGroup      // background sends in flight; Add only while !failed

	// meta is set while the session is (being probed as) modern: the
	// _meta fields of the gateway's own requests (era.go). Written only
	// before the session is published as ready.
	meta []byte
}

func newAttempt(c *Conn) *attempt {
	return &attempt{c: c, pending: map[int64]chan *jsonrpc.Message{}, inbound: map[string]struct{}{}}
}

func (a *attempt) session() Session {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sess
}

func (a *attempt) setSession(s Session) {
	a.mu.Lock()
	a.sess = s
	a.mu.Unlock()
}

// replyPool recycles the channels calls wait on. A channel goes back only
// when nothing can send on it any more: its call received the one message
// it gets (Deliver and fail take it out of pending before sending), or
// unregister found it still in pending. A call that gave up (its ctx
// ended) after Deliver took its channel leaves it to the collector.
var replyPool = sync.Pool{New: func() any { return make(chan *jsonrpc.Message, 1) }}

// register makes room for request id's response; ok is false once the
// session has ended.
func (a *attempt) register(id int64) (ch chan *jsonrpc.Message, ok bool) {
	ch = replyPool.Get().(chan *jsonrpc.Message)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.failed {
		replyPool.Put(ch)
		return nil, false
	}
	a.pending[id] = ch
	return ch, true
}

// unregister forgets request id's channel ch; received says whether the
// call took its message from ch.
func (a *attempt) unregister(id int64, ch chan *jsonrpc.Message, received bool) {
	a.mu.Lock()
	_, mine := a.pending[id]
	delete(a.pending, id)
	a.mu.Unlock()
	if mine || received {
		replyPool.Put(ch)
	}
}

// fail ends every pending call of the session: their channels get nil.
func (a *attempt) fail() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failed = true
	for id, ch := range a.pending {
		ch <- nil
		delete(a.pending, id)
	}
	clear(a.inbound)
}

// takeInbound reports whether id is a request of the server's still
// awaiting an answer, and forgets it.
func (a *attempt) takeInbound(id json.RawMessage) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.inbound[string(id)]; !ok {
		return false
	}
	delete(a.inbound, string(id))
	return true
}

// maxInbound bounds the server's unanswered requests per session; beyond
// it a request is refused rather than remembered.
const maxInbound = 4096

// Deliver implements Sink.
func (a *attempt) Deliver(m *jsonrpc.Message, want int64) bool {
	switch m.Kind() {
	case jsonrpc.KindResponse:
		id, err := strconv.ParseInt(string(m.ID), 10, 64)
		if err != nil || id <= 0 {
			a.c.log.Debug("upstream response with an id the gateway did not send; dropped")
			return false
		}
		a.mu.Lock()
		ch := a.pending[id]
		delete(a.pending, id)
		a.mu.Unlock()
		if ch == nil {
			// A late answer to a call that was cancelled or timed out
			// [C §Timing Considerations].
			a.c.log.Debug("upstream response to no pending call; dropped", "id", id)
			return id == want
		}
		ch <- m
		return id == want
	case jsonrpc.KindRequest:
		if m.Method == mcp.MethodPing {
			// [P §Behavior Requirements] answer promptly with an empty result.
			a.answer(jsonrpc.NewResponse(m.ID, json.RawMessage(`{}`)))
			return false
		}
		if a.c.h == nil {
			a.answer(jsonrpc.NewErrorResponse(m.ID, jsonrpc.NewError(jsonrpc.CodeMethodNotFound, "Method not found")))
			return false
		}
		a.mu.Lock()
		full := len(a.inbound) >= maxInbound
		if !full {
			a.inbound[string(m.ID)] = struct{}{}
		}
		a.mu.Unlock()
		if full {
			a.answer(jsonrpc.NewErrorResponse(m.ID, jsonrpc.NewError(jsonrpc.CodeInternalError, "Too many unanswered requests")))
			return false
		}
		a.c.h.UpstreamMessage(a.c.opts.Name, m)
	case jsonrpc.KindNotification:
		if a.c.h != nil {
			a.c.h.UpstreamMessage(a.c.opts.Name, m)
		}
	}
	return false
}

// answer sends a response the Conn itself gives (ping, refusals) in the
// background, so that the session's reader is not held up.
func (a *attempt) answer(m *jsonrpc.Message) {
	body := jsonrpc.Encode(m)
	a.background(func(ctx context.Context) {
		if err := a.session().Send(ctx, Outgoing{Body: body, Kind: jsonrpc.KindResponse}); err != nil {
			a.c.log.Debug("upstream answer not sent", "err", err)
		}
	})
}

// background runs f on a goroutine, with a context bounded by
// ShutdownGrace: a send the caller does not wait for (a cancellation
// notice, the Conn's own answers). The end of the session waits for it
// (runOnce) before closing the session, so that a notice sent just before
// the Conn is closed still reaches the server: closing the session aborts
// its requests, and a server that never hears of a cancellation may run
// the request until it finishes (an HTTP server's DELETE may wait for it).
// Nothing starts once the session has failed.
func (a *attempt) background(f func(ctx context.Context)) {
	a.mu.Lock()
	failed := a.failed
	if !failed {
		a.bg.Add(1) // before fail, so before waitBackground's Wait
	}
	a.mu.Unlock()
	if failed {
		return
	}
	go func() {
		defer a.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), a.c.opts.ShutdownGrace)
		defer cancel()
		f(ctx)
	}()
}

// waitBackground waits, bounded by ctx, for the background sends; the
// session has failed, so none can start.
func (a *attempt) waitBackground(ctx context.Context) {
	done := make(chan struct{})
	go func() { a.bg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
