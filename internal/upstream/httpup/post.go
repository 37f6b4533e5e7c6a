package httpup

import (
	"bytes"
	"context"
	"net/http"

	"github.com/mcpgate/mcpgate/internal/mcp"
)

// The POST of every call starts from a template request the session keeps
// (post, guarded by session.mu): its URL parsed once and its headers — the
// endpoint's, Accept, Content-Type, Mcp-Session-Id and
// MCP-Protocol-Version [T §Sending Messages 2, §Session Management 2,
// §Protocol Version Header] — built once per change of the session's id,
// version or era, instead of a URL parse and a header map per call. A call
// is a shallow copy (WithContext) that shares the template's URL and
// Header read-only: an http.RoundTripper must not modify a request, and a
// change builds a new template rather than editing the old one, which
// requests in flight may still be writing. A modern session's POST adds
// per-message headers, so it copies the map (postRequest).

// postTemplateLocked returns the session's POST template, building it if
// a change dropped it; s.mu is held.
func (s *session) postTemplateLocked() (*http.Request, error) {
	if s.post != nil {
		return s.post, nil
	}
	req, err := http.NewRequest(http.MethodPost, s.cl.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header = s.headerLocked(acceptPost, true, 0)
	s.post = req
	return req, nil
}

// headerLocked returns new request headers: the endpoint's, then the
// transport's (which win); extra is room for more. s.mu is held.
func (s *session) headerLocked(accept []string, hasBody bool, extra int) http.Header {
	h := s.cl.p.NewHeader(4 + extra)
	h["Accept"] = accept
	if hasBody {
		h["Content-Type"] = contentJSON
	}
	if s.id != nil {
		h[mcp.HeaderSessionID] = s.id
	}
	if s.version != nil {
		h[mcp.HeaderProtocolVersion] = s.version
	}
	return h
}

// postState is what Send needs of the session, read under one lock.
type postState struct {
	tmpl    *http.Request
	expired bool   // the server answered 404: nothing more is sent
	modern  bool   // the stateless era (modern.go)
	abort   uint64 // the key of the POST's cancel in session.aborts
}

// postState reads what Send needs and, unless it returns an error or
// expired, counts a POST under way (Send then calls endPost once the round
// trip is over, whatever its outcome) and registers cancel, the POST's
// context's, to run when the session is closed (forget drops it). The
// session keeps these itself rather than through context.AfterFunc on its
// ctx: two allocations and a second lock per call less.
func (s *session) postState(cancel context.CancelFunc) (postState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tmpl, err := s.postTemplateLocked()
	if err != nil {
		return postState{}, err
	}
	st := postState{tmpl: tmpl, expired: s.expired, modern: s.modern}
	if st.expired {
		return st, nil
	}
	s.posts++
	if s.stopped {
		cancel() // Close began: the POST fails as aborted
		return st, nil
	}
	if s.aborts == nil {
		s.aborts = make(map[uint64]context.CancelFunc)
	}
	s.nextAbort++
	st.abort = s.nextAbort
	s.aborts[st.abort] = cancel
	return st, nil
}

// forget drops the cancel registered under key (0: none).
func (s *session) forget(key uint64) {
	if key == 0 {
		return
	}
	s.mu.Lock()
	delete(s.aborts, key)
	s.mu.Unlock()
}

// abortAll ends the session's context, then every POST's (Close): a
// request aborted so finds the session's ended first (transportError).
func (s *session) abortAll() {
	s.stop()
	s.mu.Lock()
	s.stopped = true
	aborts := s.aborts
	s.aborts = nil
	s.mu.Unlock()
	for _, cancel := range aborts {
		cancel()
	}
}

// postRequest is the POST of body from template tmpl, bounded by ctx,
// and the reader of its body (bodySent). A modern session's gets a copy
// of the headers, which it extends.
func postRequest(ctx context.Context, tmpl *http.Request, body []byte, modern bool) (*http.Request, *bytes.Reader) {
	req := tmpl.WithContext(ctx)
	if modern {
		req.Header = tmpl.Header.Clone()
	}
	return req, setBody(req, body) // sent.go
}
