package demo

import (
	"context"
	"net/http"
	"sync"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/sse"
)

// exchange is one HTTP response in progress: a POST's (the messages
// related to its request, then its response) or a GET stream's (messages
// only). Handlers push to it from any goroutine; the HTTP handler's
// goroutine takes and writes them.
type exchange struct {
	wake chan struct{} // holds a token when there is something to take

	mu sync.Mutex // guards the fields below
	// queue are the messages pushed and not yet taken.
	queue []*jsonrpc.Message
	// resp is the response, once ended; nil for a request that ended
	// without one (cancelled).
	resp *jsonrpc.Message
	// ended is set by finish.
	ended bool
	// gone is set by leave: the HTTP side stopped reading.
	gone bool
}

func newExchange() *exchange { return &exchange{wake: make(chan struct{}, 1)} }

// push queues m; false when the HTTP side is gone.
func (e *exchange) push(m *jsonrpc.Message) bool {
	e.mu.Lock()
	if e.gone || e.ended {
		e.mu.Unlock()
		return false
	}
	e.queue = append(e.queue, m)
	e.mu.Unlock()
	e.signal()
	return true
}

// finish records the response (a replyFunc); only the first counts.
func (e *exchange) finish(resp *jsonrpc.Message) {
	e.mu.Lock()
	if e.ended {
		e.mu.Unlock()
		return
	}
	e.resp, e.ended = resp, true
	e.mu.Unlock()
	e.signal()
}

func (e *exchange) signal() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// take returns the queued messages and whether (and with what) the
// exchange has ended.
func (e *exchange) take() (msgs []*jsonrpc.Message, resp *jsonrpc.Message, ended bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	msgs, e.queue = e.queue, nil
	return msgs, e.resp, e.ended
}

// leave marks the HTTP side gone: later pushes are dropped.
func (e *exchange) leave() {
	e.mu.Lock()
	e.gone = true
	e.queue = nil
	e.mu.Unlock()
}

// serveRequest dispatches request m to srv with ctx and answers the POST
// through the new exchange e:
// with the response as application/json when it is all the request
// produced by the time it came, else as an SSE stream of the related
// messages ending with the response [T §Sending Messages to the Server 5].
// retag, when set, rewrites each message before it is written (the
// modern era's ids, httpmodern.go).
func (h *HTTPHandler) serveRequest(w http.ResponseWriter, r *http.Request, srv *server, ctx context.Context, m *jsonrpc.Message, e *exchange, retag func(*jsonrpc.Message) *jsonrpc.Message) {
	srv.handleMessage(withSink(ctx, e), m, e.finish)
	e.mu.Lock()
	if e.ended && e.resp != nil && len(e.queue) == 0 {
		// The common case (instant tools, lists, inline methods): the
		// response came on this goroutine, with nothing before it.
		resp := e.resp
		e.gone = true
		e.mu.Unlock()
		if retag != nil {
			resp = retag(resp)
		}
		writeJSONMessage(w, statusOfResponse(resp, retag != nil), resp)
		return
	}
	e.mu.Unlock()
	h.stream(w, r, ctx, e, retag)
}

// stream writes e as an SSE stream until it ends (a POST's, after its
// response; a GET's, never), the client leaves, or ctx ends. A POST whose
// response comes first, with nothing before it, is still answered as JSON.
// Events carry no ID: this server does not resume streams.
func (h *HTTPHandler) stream(w http.ResponseWriter, r *http.Request, ctx context.Context, e *exchange, retag func(*jsonrpc.Message) *jsonrpc.Message) {
	defer e.leave()
	var sw *sse.Writer
	start := func() {
		if sw == nil {
			sw = sse.Start(w, h.opts.WriteTimeout)
		}
	}
	defer func() {
		if sw != nil {
			sw.End()
		}
	}()
	isGet := r.Method == http.MethodGet
	if isGet {
		start()
		if sw.Flush() != nil { // the headers, at once: the client waits for them
			return
		}
	}
	var buf []byte
	for {
		msgs, resp, ended := e.take()
		if ended && sw == nil && len(msgs) == 0 && resp != nil {
			if retag != nil {
				resp = retag(resp)
			}
			writeJSONMessage(w, statusOfResponse(resp, retag != nil), resp)
			return
		}
		if len(msgs) > 0 || ended {
			start()
			for _, m := range msgs {
				if retag != nil {
					m = retag(m)
				}
				buf = jsonrpc.AppendEncode(buf[:0], m)
				sw.Event(nil, "message", buf)
			}
			if ended && resp != nil {
				if retag != nil {
					resp = retag(resp)
				}
				buf = jsonrpc.AppendEncode(buf[:0], resp)
				sw.Event(nil, "message", buf)
			}
			// After the response the stream ends [T §Sending Messages to
			// the Server 5: the server SHOULD close the stream].
			if sw.Flush() != nil || ended {
				return
			}
		}
		select {
		case <-e.wake:
		case <-r.Context().Done():
			return
		case <-ctx.Done():
			return
		}
	}
}
