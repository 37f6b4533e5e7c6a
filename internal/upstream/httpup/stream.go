package httpup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/upstream/remote"
)

// streamState is what a reader of one SSE stream keeps across
// reconnections: the last event id and the server's retry.
type streamState struct {
	lastID string
	retry  time.Duration
}

// wait is how long to wait before reconnecting: the server's retry, which
// the client MUST respect [T §Sending Messages 6], else defaultRetry.
func (st *streamState) wait() time.Duration {
	if st.retry > 0 {
		return min(st.retry, maxRetry)
	}
	return defaultRetry
}

// readStream reads events from body and delivers their messages until
// the response to want (0: none) arrives (got), the stream ends or fails.
// progressed reports whether any event came.
func (s *session) readStream(body io.Reader, want int64, st *streamState) (got, progressed bool, err error) {
	r := remote.NewEventReader(body, int(s.cl.p.Max))
	defer r.Release()
	for {
		ev, err := r.Next()
		if ev.HasID {
			st.lastID = string(ev.ID)
			progressed = true
		}
		if ev.Retry > 0 {
			st.retry = ev.Retry
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return false, progressed, err
		}
		progressed = true
		if len(ev.Data) == 0 || (ev.Name != "" && ev.Name != "message") {
			continue // the priming event [T §Sending Messages 6], or not ours
		}
		msg, rpcErr := jsonrpc.Decode(ev.Data)
		if rpcErr != nil {
			s.cl.p.Log.Warn("upstream sent a malformed message; skipped", "err", rpcErr.Message, "len", len(ev.Data))
			continue
		}
		if s.sink.Deliver(msg, want) && want != 0 {
			return true, true, nil
		}
	}
}

// listen holds the standalone GET stream, on which the server sends its
// own requests and notifications [T §Listening for Messages from the
// Server], reconnecting after each end with Last-Event-ID and the server's
// retry. A 405 means the server offers none, which is fine. An unreachable
// server or a 404 ends the session.
func (s *session) listen() {
	var st streamState
	idle := 0 // consecutive streams that brought nothing
	for {
		req, err := s.request(s.ctx, http.MethodGet, nil, acceptStream, st.lastID)
		if err != nil {
			s.cl.p.Log.Warn("upstream GET stream not opened", "err", err)
			return
		}
		resp, err := s.cl.p.Do(req)
		if err != nil {
			if s.ctx.Err() == nil {
				s.end(fmt.Errorf("opening the GET stream: %w", remote.NetError(err)))
			}
			return
		}
		switch {
		case resp.StatusCode == http.StatusNotFound && s.hasID():
			remote.Drain(resp.Body)
			s.end(remote.ErrSessionExpired)
			return
		case resp.StatusCode == http.StatusMethodNotAllowed:
			// [T §Listening 3] the server offers no GET stream.
			remote.Drain(resp.Body)
			s.cl.p.Log.Debug("upstream offers no GET stream")
			return
		case resp.StatusCode != http.StatusOK || !remote.IsEventStream(resp.Header.Get("Content-Type")):
			remote.Drain(resp.Body)
			s.cl.p.Log.Warn("upstream GET stream refused; going without", "status", resp.StatusCode)
			return
		}
		_, progressed, err := s.readStream(resp.Body, 0, &st)
		resp.Body.Close()
		if s.ctx.Err() != nil {
			return
		}
		wait := st.wait()
		if progressed {
			idle = 0
		} else if idle++; idle > 1 {
			// A server that keeps hanging up at once: back off, up to 16×.
			wait <<= min(idle-1, 4)
		}
		s.cl.p.Log.Debug("upstream GET stream ended; reconnecting", "err", err, "wait", wait)
		if !sleep(s.ctx, s.ctx, wait) {
			return
		}
	}
}

// Close implements remote.Session: the session's requests and stream are
// aborted, and the server is told with DELETE unless it already forgot
// the session [T §Session Management 5] (405 means it does not allow
// that, which is fine). It waits, bounded by ctx, for its goroutines.
func (s *session) Close(ctx context.Context) {
	s.mu.Lock()
	s.closed = true
	expired := s.expired
	var drained chan struct{}
	if expired && s.posts > 0 {
		drained = make(chan struct{})
		s.drained = drained
	}
	s.mu.Unlock()
	if drained != nil {
		// The server forgot the session: the POSTs under way get their
		// own answer (a 404 lets the Conn send the call again on the next
		// session; aborted, a call the server never saw would be lost).
		select {
		case <-drained:
		case <-ctx.Done():
		}
	}
	s.abortAll() // post.go
	if !expired && s.hasID() {
		if req, err := s.request(ctx, http.MethodDelete, nil, acceptPost, ""); err == nil {
			if resp, err := s.cl.p.Do(req); err == nil {
				remote.Drain(resp.Body)
			} else {
				s.cl.p.Log.Debug("upstream session not deleted", "err", err)
			}
		}
	}
	s.end(errClosed)
	waited := make(chan struct{})
	go func() { s.wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
	}
}

var errClosed = errors.New("session closed")
