package remotetest

import (
	"io"
	"net/http"
	"sync"
)

// Request is one HTTP request a Wire saw.
type Request struct {
	Method string
	Header http.Header
	// Done: the server has finished with it; Cancelled: the client closed
	// it before the answer was complete.
	Done, Cancelled bool
}

// Wire is an http.Handler that records every request (from the moment it
// arrives) and passes it to Next. A request whose Mcp-Name is Block is
// held, after its body is read, until the client closes it: a call that
// runs until cancelled.
type Wire struct {
	Next  http.Handler
	Block string // "" blocks nothing

	mu   sync.Mutex // guards reqs and their Done and Cancelled
	reqs []*Request
}

func (w *Wire) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	rec := &Request{Method: r.Method, Header: r.Header.Clone()}
	w.mu.Lock()
	w.reqs = append(w.reqs, rec)
	w.mu.Unlock()
	if w.Block != "" && r.Header.Get("Mcp-Name") == w.Block {
		// The server notices the client closing only once it has read
		// the body.
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	} else {
		w.Next.ServeHTTP(rw, r)
	}
	w.mu.Lock()
	rec.Done, rec.Cancelled = true, r.Context().Err() != nil
	w.mu.Unlock()
}

// All returns copies of the requests seen so far, in arrival order.
func (w *Wire) All() []Request {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]Request, len(w.reqs))
	for i, r := range w.reqs {
		out[i] = *r
	}
	return out
}

// Find returns the requests with Mcp-Method method and, unless name is
// empty, Mcp-Name name.
func (w *Wire) Find(method, name string) []Request {
	var out []Request
	for _, r := range w.All() {
		if r.Header.Get("Mcp-Method") == method && (name == "" || r.Header.Get("Mcp-Name") == name) {
			out = append(out, r)
		}
	}
	return out
}
