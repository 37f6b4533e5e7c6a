package httpup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/mcp"
	"github.com/mcpgate/mcpgate/internal/upstream"
	"github.com/mcpgate/mcpgate/internal/upstream/remote"
)

// Header values the transport sends, shared read-only.
var (
	acceptPost   = []string{"application/json, text/event-stream"} // [T §Sending Messages 2]
	acceptStream = []string{"text/event-stream"}                   // [T §Listening 2]
	contentJSON  = []string{"application/json"}
)

const (
	// defaultRetry is the wait before reconnecting a stream whose server
	// gave no retry field.
	defaultRetry = time.Second
	// maxRetry caps a server's retry field.
	maxRetry = time.Minute
	// maxIdleResumes bounds consecutive resumptions that brought nothing.
	maxIdleResumes = 3
	// drainWait bounds reading the rest of a POST stream after its
	// response, so that its connection can be reused.
	drainWait = time.Second
)

// session is one Streamable HTTP session. Its ctx ends when it is closed,
// which aborts its requests and its GET stream.
type session struct {
	cl   *client
	sink remote.Sink
	ctx  context.Context
	stop context.CancelFunc
	done chan struct{}

	mu sync.Mutex // guards the fields below
	// id is the Mcp-Session-Id header value (nil: none assigned) and
	// version the MCP-Protocol-Version value (nil before Ready).
	id, version []string
	err         error // why the session ended
	expired     bool  // the server answered 404: no DELETE
	modern      bool  // the stateless era (modern.go)
	// post is the template of the session's POSTs (post.go); nil after a
	// change of id, version or era, until the next POST builds it.
	post *http.Request
	// aborts holds the cancel of each POST's context under way (and of
	// the body it left behind, until closed), run by abortAll; stopped is
	// set once they have run (post.go).
	aborts    map[uint64]context.CancelFunc
	nextAbort uint64
	stopped   bool
	closed    bool // Close began: no new goroutines
	wg        sync.WaitGroup
	// posts counts the POST round trips under way (until their response
	// headers); drained, when set, is closed as posts reaches zero
	// (Close of an expired session waits for it).
	posts   int
	drained chan struct{}
}

// postState (post.go) and endPost bracket a POST's round trip: Close of an
// expired session waits for those under way.
func (s *session) endPost() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.posts--; s.posts == 0 && s.drained != nil {
		close(s.drained)
		s.drained = nil
	}
}

func newSession(cl *client, sink remote.Sink) *session {
	ctx, stop := context.WithCancel(context.Background())
	return &session{cl: cl, sink: sink, ctx: ctx, stop: stop, done: make(chan struct{})}
}

// Done implements remote.Session.
func (s *session) Done() <-chan struct{} { return s.done }

// Err implements remote.Session.
func (s *session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// end marks the session over because of err (the first cause wins).
func (s *session) end(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return
	}
	s.err = err
	if errors.Is(err, remote.ErrSessionExpired) {
		s.expired = true
	}
	close(s.done)
}

// goOwned runs f on a goroutine Close waits for; false once Close began.
func (s *session) goOwned(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Go(f)
	return true
}

// Negotiated implements remote.Session: MCP-Protocol-Version on every
// request from now on [T §Protocol Version Header].
func (s *session) Negotiated(version string) {
	s.mu.Lock()
	s.version = []string{version}
	s.post = nil
	s.mu.Unlock()
}

// Ready implements remote.Session: the GET stream, which the stateless
// era does not have [SH26 §Earlier Streamable HTTP Revisions].
func (s *session) Ready() {
	if !s.isModern() {
		s.goOwned(s.listen)
	}
}

// request builds a request to the endpoint with the session's headers.
func (s *session) request(ctx context.Context, method string, body []byte, accept []string, lastEventID string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.cl.url, nil)
	if err != nil {
		return nil, err
	}
	if body != nil {
		setBody(req, body) // sent.go
	}
	s.mu.Lock()
	h := s.headerLocked(accept, body != nil, 1) // post.go
	s.mu.Unlock()
	if lastEventID != "" {
		h[mcp.HeaderLastEventID] = []string{lastEventID}
	}
	req.Header = h
	return req, nil
}

// hasExpired reports whether the server answered 404 for the session.
func (s *session) hasExpired() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expired
}

// hasID reports whether the session has an id, which is what makes a 404
// mean "expired" [T §Session Management 4].
func (s *session) hasID() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id != nil
}

// Send implements remote.Session: one POST per message
// [T §Sending Messages 1-3].
func (s *session) Send(ctx context.Context, m remote.Outgoing) error {
	// The request ends with the caller's ctx or the session, whichever
	// ends first (postState registers cancel with the session).
	rctx, cancel := context.WithCancel(ctx)
	st, err := s.postState(cancel) // post.go
	if err != nil {
		cancel()
		return fmt.Errorf("posting: %w", err)
	}
	if st.expired {
		cancel()
		// The server forgot the session (its GET stream met the 404
		// first) and this message has not gone out: the Conn may send it
		// again on a new session [T §Session Management 4].
		return fmt.Errorf("posting: %w", remote.ErrSessionExpired)
	}
	owned := false // the response body took over the context
	defer func() {
		if !owned {
			s.forget(st.abort)
			cancel()
		}
	}()
	req, body := postRequest(rctx, st.tmpl, m.Body, st.modern)
	modern := st.modern
	if modern {
		setModernHeaders(ctx, req.Header, m) // modern.go
	}
	resp, err := s.cl.p.Do(req)
	s.endPost()
	if err != nil {
		return s.transportError(ctx, "posting", err, bodySent(body)) // sent.go
	}
	if resp.StatusCode == http.StatusNotFound && s.hasID() {
		remote.Drain(resp.Body)
		s.end(remote.ErrSessionExpired)
		return fmt.Errorf("posting: %w", remote.ErrSessionExpired)
	}
	if m.Kind != jsonrpc.KindRequest {
		// [T §Sending Messages 4] 202 Accepted, or an error status.
		remote.Drain(resp.Body)
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("%w: %w", upstream.ErrUnavailable, remote.StatusError(resp))
		}
		return nil
	}
	if m.Method == mcp.MethodInitialize {
		if err := s.takeSessionID(resp); err != nil {
			remote.Drain(resp.Body)
			return err
		}
	}
	ct := resp.Header.Get("Content-Type")
	switch {
	case resp.StatusCode == http.StatusOK && remote.IsEventStream(ct):
		// [T §Sending Messages 5-6] an SSE stream that should end with the
		// response.
		// The body may outlive Send (finish): closing it releases the
		// request.
		resp.Body = &cancelBody{ReadCloser: resp.Body, s: s, abort: st.abort, cancel: cancel}
		owned = true
		return s.readPostStream(ctx, resp, m.ID, modern)
	case resp.StatusCode/100 == 2 && remote.IsJSON(ct), resp.StatusCode/100 == 4 && remote.IsJSON(ct):
		// One JSON object; an error status may still carry a JSON-RPC
		// error response for the request.
		defer resp.Body.Close()
		return s.readJSON(resp, m.ID)
	}
	remote.Drain(resp.Body)
	return fmt.Errorf("%w: %w", upstream.ErrUnavailable, remote.StatusError(resp))
}

// transportError turns a failed round trip into Send's error. A failure
// that is not the caller's doing (the server unreachable, the connection
// reset) ends the session: the next one starts after a backoff. sent says
// whether the request may have reached the server (its body was written).
func (s *session) transportError(ctx context.Context, what string, err error, sent bool) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if s.ctx.Err() != nil {
		if s.hasExpired() && !sent {
			// Aborted before it was written because the server forgot
			// the session (its GET stream met the 404 first): the server
			// never saw it, so the Conn may send it again on a new
			// session [T §Session Management 4]. One that was written
			// gets its own answer first (Close waits for it): a 404,
			// sent again like this, or a stream, cut off with the
			// session — the server may be running it, and sending it
			// again could run a tool twice.
			return fmt.Errorf("%s: %w", what, remote.ErrSessionExpired)
		}
		return fmt.Errorf("%s: %w: the session is closed", what, upstream.ErrUnavailable)
	}
	err = fmt.Errorf("%s: %w", what, remote.NetError(err))
	s.end(err)
	return fmt.Errorf("%w: %w", upstream.ErrUnavailable, err)
}

// takeSessionID records the id the server assigned with its
// InitializeResult, if any [T §Session Management 1].
func (s *session) takeSessionID(resp *http.Response) error {
	id := resp.Header.Get(mcp.HeaderSessionID)
	if id == "" {
		return nil // a server without sessions
	}
	if !validSessionID(id) {
		return errors.New("upstream assigned a session id with characters other than visible ASCII")
	}
	s.mu.Lock()
	s.id = []string{id}
	s.post = nil
	s.mu.Unlock()
	return nil
}

// readJSON reads a single JSON response.
func (s *session) readJSON(resp *http.Response, want int64) error {
	// The body is only decoded, and Decode copies what it keeps: a pooled
	// buffer, not one per call.
	buf := remote.GetBuffer()
	defer remote.PutBuffer(buf)
	body, err := remote.AppendBody((*buf)[:0], resp, s.cl.p.Max)
	*buf = body
	if err != nil {
		return fmt.Errorf("%w: %w", upstream.ErrUnavailable, err)
	}
	msg, rpcErr := jsonrpc.Decode(body)
	if rpcErr != nil {
		return fmt.Errorf("%w: %w with malformed JSON-RPC", upstream.ErrUnavailable, remote.StatusError(resp))
	}
	if !s.sink.Deliver(msg, want) {
		return fmt.Errorf("%w: %w without the response", upstream.ErrUnavailable, remote.StatusError(resp))
	}
	return nil
}

// readPostStream reads a POST's SSE stream until the response to want,
// resuming it with GET and Last-Event-ID when the connection ends first
// [T §Sending Messages 6, §Resumability and Redelivery 2] — except in the
// stateless era, which has no resumption (modern).
func (s *session) readPostStream(ctx context.Context, resp *http.Response, want int64, modern bool) error {
	var st streamState
	idle := 0
	for {
		got, progressed, err := s.readStream(resp.Body, want, &st)
		if got {
			s.finish(resp.Body)
			return nil
		}
		resp.Body.Close()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if s.ctx.Err() != nil {
			return fmt.Errorf("%w: the session is closed", upstream.ErrUnavailable)
		}
		if st.lastID == "" || modern {
			// Not resumable: the call is lost.
			if err == nil {
				err = errNoResponse
			}
			return fmt.Errorf("%w: %w", upstream.ErrUnavailable, err)
		}
		if progressed {
			idle = 0
		} else if idle++; idle > maxIdleResumes {
			return fmt.Errorf("%w: resuming the stream brought nothing %d times", upstream.ErrUnavailable, idle)
		}
		if !sleep(ctx, s.ctx, st.wait()) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("%w: the session is closed", upstream.ErrUnavailable)
		}
		if resp, err = s.resume(ctx, st.lastID); err != nil {
			return err
		}
	}
}

// resume opens GET with Last-Event-ID for a POST stream.
func (s *session) resume(ctx context.Context, lastID string) (*http.Response, error) {
	rctx, cancel := context.WithCancel(ctx)
	unhook := context.AfterFunc(s.ctx, cancel)
	req, err := s.request(rctx, http.MethodGet, nil, acceptStream, lastID)
	if err != nil {
		unhook()
		cancel()
		return nil, fmt.Errorf("resuming: %w", err)
	}
	resp, err := s.cl.p.Do(req)
	if err != nil {
		unhook()
		cancel()
		return nil, s.transportError(ctx, "resuming", err, true) // the POST was seen
	}
	// The body outlives this function: cancel when it is closed.
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: func() { unhook(); cancel() }}
	switch {
	case resp.StatusCode == http.StatusNotFound && s.hasID():
		remote.Drain(resp.Body)
		s.end(remote.ErrSessionExpired)
		// The session is renewed, but the call is not sent again: the
		// server saw it (its stream was being read), and may have run it.
		return nil, fmt.Errorf("%w: resuming: the session expired with the call in flight", upstream.ErrUnavailable)
	case resp.StatusCode != http.StatusOK || !remote.IsEventStream(resp.Header.Get("Content-Type")):
		remote.Drain(resp.Body)
		return nil, fmt.Errorf("%w: resuming: %w", upstream.ErrUnavailable, remote.StatusError(resp))
	}
	return resp, nil
}

// cancelBody runs cancel when the body is closed, after dropping it from
// s's aborts under key abort if s is set.
type cancelBody struct {
	io.ReadCloser
	s      *session
	abort  uint64
	cancel func()
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	if b.s != nil {
		b.s.forget(b.abort)
	}
	b.cancel()
	return err
}

// finish reads what is left of a POST stream after its response (the
// server SHOULD end it then [T §Sending Messages 6]) in the background, so
// that the connection can serve the next request, then closes it.
func (s *session) finish(body io.ReadCloser) {
	ok := s.goOwned(func() {
		t := time.AfterFunc(drainWait, func() { body.Close() })
		_, _ = io.CopyN(io.Discard, body, 64<<10)
		t.Stop()
		body.Close()
	})
	if !ok {
		body.Close()
	}
}

// sleep waits d unless a or b ends first; it reports whether d passed.
func sleep(a, b context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-a.Done():
	case <-b.Done():
	}
	return false
}
