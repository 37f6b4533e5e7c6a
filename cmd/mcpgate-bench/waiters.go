package main

import (
	"fmt"
	"sync"
)

// waiters routes the responses one reader reads to the calls waiting for
// them, by JSON-RPC id, and fails them all when the reader stops. It is
// embedded by the clients that have one reader (a stdio pipe, a legacy SSE
// stream): their code holds mu while touching pending and err.
type waiters struct {
	mu      sync.Mutex // guards the fields below
	pending map[int64]chan error
	err     error // why the reader stopped; set before it returns
}

// deliver hands the response msg to the call waiting for id, if any.
func (w *waiters) deliver(id int64, msg []byte) {
	w.mu.Lock()
	ch := w.pending[id]
	delete(w.pending, id)
	w.mu.Unlock()
	if ch != nil {
		ch <- checkResponse(msg)
	}
}

// fail records that the reader stopped with err and fails every waiting
// call with errStreamEnded.
func (w *waiters) fail(err error) {
	w.mu.Lock()
	w.err = fmt.Errorf("%w: %w", errStreamEnded, err)
	for id, ch := range w.pending {
		ch <- w.err
		delete(w.pending, id)
	}
	w.mu.Unlock()
}
