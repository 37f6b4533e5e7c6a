package httpfront

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxHold is Options.MaxHold's zero value: how long a held response
// waits for its handler before it is sent anyway.
const DefaultMaxHold = 2 * time.Millisecond

// The states of a response's hold.
const (
	holdNone     int32 = iota // not held
	holdArmed                 // held: goes when the handler returns, Release runs or MaxHold passes
	holdReturned              // the handler returned first: the loop sends it as usual
	holdReleased              // sent without the handler: the connection went on without it
)

// Held is a response its handler holds while it goes on working (Hold).
// The zero value holds nothing.
type Held struct{ w *response }

// Hold makes the response w has written so far final — the status its
// handler set with WriteHeader, the header, any body bytes buffered — and
// holds it until the handler returns, Release is called, or the handler
// has run for Options.MaxHold after Hold, whichever comes first. If the
// handler returns first, the response leaves as any other; otherwise it
// is sent without waiting for the handler and the connection serves the
// client's next request on another goroutine while the handler goes on.
//
// What it is for: a handler whose answer does not depend on the work it
// starts (the legacy SSE transport's 202 Accepted to a POSTed message)
// runs that work on its own goroutine, and when the work is quick the
// client gets the answer once, after it, with no other goroutine woken
// — while a slow one does not keep the client waiting (a client that
// sends its messages one at a time, as the Python SDK's legacy client
// does, waits at most MaxHold per message).
//
// After Hold the handler must not use w, the request's body or the
// connection again; the request's context still ends when the handler
// returns. Hold reports false, and holds nothing, where the response is
// not the fast lane's (a connection net/http serves: do the work
// elsewhere), or before WriteHeader, after a Flush or Hijack, or a second
// time.
func Hold(w http.ResponseWriter) (Held, bool) {
	rw := fastResponse(w)
	if rw == nil || !rw.wroteHeader || rw.streaming || rw.hijacked || rw.handlerDone || rw.hold.Load() != holdNone {
		return Held{}, false
	}
	rw.body.closed = true // the handler's reads end here; what is left is the loop's to skip
	rw.heldAt = time.Now().UnixNano()
	rw.hold.Store(holdArmed)
	rw.c.s.addHeld(rw)
	return Held{rw}, true
}

// Release sends the held response now unless it went already, and lets the
// connection serve the client's next request while the handler goes on.
// Any goroutine may call it, any number of times.
func (h Held) Release() {
	if h.w != nil {
		h.w.release()
	}
}

// fastResponse finds the fast lane's response under w's wrappers (the
// Unwrap chain http.ResponseController follows).
func fastResponse(w http.ResponseWriter) *response {
	for {
		switch t := w.(type) {
		case *response:
			return t
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return nil
		}
	}
}

// release sends a held response on a new goroutine, which serves the
// connection from then on (the handler's goroutine returns without
// touching it).
func (w *response) release() {
	if !w.hold.CompareAndSwap(holdArmed, holdReleased) {
		return
	}
	w.c.s.dropHeld(w)
	go w.c.loop(1, w)
}

// claim is the handler's goroutine taking its response back after the
// handler: false when it went without the handler (the connection is
// another goroutine's now).
func (w *response) claim() bool {
	for {
		switch w.hold.Load() {
		case holdArmed:
			if w.hold.CompareAndSwap(holdArmed, holdReturned) {
				w.c.s.dropHeld(w)
				return true
			}
		case holdReleased:
			return false
		default:
			return true
		}
	}
}

// heldSet is the server's held responses, for the sweep.
type heldSet struct {
	n  atomic.Int64 // len(m), read without the lock
	mu sync.Mutex
	m  map[*response]struct{}
}

func (s *Server) addHeld(w *response) {
	s.held.mu.Lock()
	s.held.m[w] = struct{}{}
	s.held.n.Store(int64(len(s.held.m)))
	s.held.mu.Unlock()
}

func (s *Server) dropHeld(w *response) {
	s.held.mu.Lock()
	delete(s.held.m, w)
	s.held.n.Store(int64(len(s.held.m)))
	s.held.mu.Unlock()
}

// releaseDue sends the responses held since before.
func (s *Server) releaseDue(before int64, due []*response) []*response {
	if s.held.n.Load() == 0 {
		return due
	}
	s.held.mu.Lock()
	for w := range s.held.m {
		if w.heldAt <= before {
			due = append(due, w)
		}
	}
	s.held.mu.Unlock()
	for i, w := range due {
		w.release()
		due[i] = nil
	}
	return due[:0]
}
