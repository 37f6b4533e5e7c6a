package mcpsession

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/mcpgate/mcpgate/internal/eventlog"
	"github.com/mcpgate/mcpgate/internal/sse"
	"github.com/mcpgate/mcpgate/internal/workpool"
)

// Parking idle SSE streams.
//
// An SSE stream that waits for events held, until now, its connection's
// goroutine (parked in Pump, with a stack of 8–16 KB), net/http's buffered
// reader and writer (8 KB), its request and response, and net/http's
// background-read goroutine: most of what an idle stream costs. Once an
// HTTP/1.x stream has written what it holds, Pump takes its connection
// over from net/http (sse.Writer.Hijack) and hands it to the hub's parker;
// the handler returns, and what is left of the stream is a small record:
//
//	handler goroutine                     parker (one per Hub)
//	Pump: priming, replay, events
//	  ── nothing left to write ──▶ Hijack ──▶ parked{conn, writer, after}
//	handler returns                          │
//	  event log Notify ──▶ Wake ──────────────┼─▶ a writer goroutine (elastic, like Hub.Go):
//	  heartbeat timer (one per stream) ───────┤     Read, write one chunk, Notify again
//	  session ends / Shutdown / takeover ─────┤     (ping when silent)
//	  reader goroutine: the client closed ────┘   end: last chunk, close, Parking.Done
//
// A writer goroutine is busy only while it writes; a client that does not
// take its bytes holds one for at most the write timeout, as a stream's own
// goroutine did, and the next stream to wake gets another writer. The only
// goroutine a parked stream keeps is its reader: a blocked one-byte Read
// that notices the client closing the connection at once (as net/http's
// background read did) on the smallest stack there is.
//
// HTTP/2 connections cannot be taken over (http.ErrNotSupported) and stay
// on the handler's goroutine, as does every stream when the event log
// cannot notify (eventlog.Notifier) or Options.DisableParking is set.

// Parking lets Pump park its stream (PumpOptions.Park). The transport says
// how the stream ends and what to release when it does.
type Parking struct {
	// Request is the stream's request. Only HTTP/1.x GET streams park.
	Request *http.Request
	// Conn is the stream's connection record (Live.Attach): once parked,
	// a takeover stops the parked stream.
	Conn *Conn
	// EndOnClosing ends the stream when Shutdown begins (the Streamable
	// HTTP standalone stream, which carries no responses).
	EndOnClosing bool
	// DrainOnEnd writes what the stream still holds when its session ends
	// under it (2024-11-05: the responses of calls that finished).
	DrainOnEnd bool
	// Parked is called once the stream is parked, on the handler's
	// goroutine before the handler returns: the transport releases what
	// belongs to the request (contexts, AfterFuncs) there.
	Parked func()
	// Done is called once a parked stream has ended and its connection is
	// closed, with why it ended (one of the Reason constants): the
	// transport releases the rest there, as its handler would have.
	Done func(reason string)
}

// ErrParked is returned by Pump when it parked the stream: the handler
// must return without touching the stream's writer; Parking.Done releases
// the rest later.
var ErrParked = errors.New("stream parked")

// Why a parked stream ended, for Parking.Done.
const (
	ReasonClientGone     = "client disconnected"
	ReasonClientData     = "client sent data after its request"
	ReasonSessionEnded   = "session ended"
	ReasonConnFailed     = "connection failed"
	ReasonTakenOver      = "stream taken over"
	ReasonShuttingDown   = "shutting down"
	ReasonStreamComplete = "stream complete"
)

// parker owns the parked streams of a hub and the goroutines that serve
// them.
type parker struct {
	h       *Hub
	writers workpool.Pool  // the writer goroutines
	wg      sync.WaitGroup // the readers

	mu      sync.Mutex           // guards the fields below
	streams map[*parked]struct{} // parked and not yet ended
	closed  bool                 // Shutdown is waiting: park no more
	empty   chan struct{}        // closed when streams empties; nil when nobody waits
}

func newParker(h *Hub) *parker {
	pk := &parker{h: h, streams: make(map[*parked]struct{})}
	pk.writers.Idle = workerIdle
	return pk
}

// Parked reports how many streams are parked.
func (h *Hub) Parked() int {
	h.parker.mu.Lock()
	defer h.parker.mu.Unlock()
	return len(h.parker.streams)
}

// MayPark reports whether a stream served for r may be parked: an
// HTTP/1.x GET on a hub whose event log can wake parked streams. A
// transport that sees true sends "Connection: close" with the stream's
// headers: a parked stream's connection is closed after its last chunk,
// and a client must not pick it from its idle pool for a next request
// (Go's client would, and the request would fail with EOF).
func (h *Hub) MayPark(r *http.Request) bool {
	_, ok := h.events.(eventlog.Notifier)
	return ok && !h.opts.DisableParking && r.ProtoMajor == 1 && r.Method == http.MethodGet
}

// park takes the stream's connection over and parks it; it reports false,
// with the stream untouched, when the stream cannot park.
//
//go:noinline
func (h *Hub) park(ctx context.Context, w *sse.Writer, ls *Live, stream string, after uint64, opts PumpOptions) bool {
	pk := opts.Park
	r := pk.Request
	if !h.MayPark(r) || ctx.Err() != nil {
		return false
	}
	n := h.events.(eventlog.Notifier)
	// Queued while it is set up: what stops it meanwhile is recorded and
	// served by its first round, started at the end.
	p := &parked{pk: h.parker, h: h, n: n, ls: ls, stream: stream, after: after, ids: opts.IDs,
		drain: pk.DrainOnEnd, done: pk.Done, w: w, state: parkQueued}
	p.serveFn = p.serve
	if !h.parker.add(p) {
		return false
	}
	// An HTTP/1.1 response without Content-Length is chunked; an HTTP/1.0
	// one ends when the connection closes (net/http chose so when the
	// headers went out).
	conn, extra, err := w.Hijack(r.ProtoAtLeast(1, 1))
	if err != nil {
		h.parker.remove(p)
		return false
	}
	h.parker.mu.Lock() // shutdown reads conn
	p.conn, p.c = conn, pk.Conn
	h.parker.mu.Unlock()
	p.lastWrite.Store(time.Now().UnixNano())
	pk.Conn.rebind(p.takenOver)
	pk.Conn.parked.Store(p)
	switch {
	case ctx.Err() != nil && ls.ctx.Err() != nil:
		p.stop(ReasonSessionEnded)
	case ctx.Err() != nil: // a takeover or Shutdown before the rebind
		p.stop(ReasonTakenOver)
	case extra:
		p.stop(ReasonClientData)
	}
	if pk.Parked != nil {
		pk.Parked()
	}
	p.stops[0] = context.AfterFunc(ls.ctx, p.sessionEnded)
	if pk.EndOnClosing {
		p.stops[1] = context.AfterFunc(h.closingCtx, p.shuttingDown)
	}
	if h.opts.Heartbeat > 0 {
		p.mu.Lock()
		p.hb = time.AfterFunc(h.opts.Heartbeat, p.heartbeat)
		p.mu.Unlock()
	}
	h.parker.wg.Add(1)
	go p.read()
	h.parker.run(p) // the first round: anything new, then Notify
	return true
}

// add counts p in, unless Shutdown is waiting for the parked streams.
func (pk *parker) add(p *parked) bool {
	pk.mu.Lock()
	defer pk.mu.Unlock()
	if pk.closed {
		return false
	}
	pk.streams[p] = struct{}{}
	return true
}

// remove counts p out.
func (pk *parker) remove(p *parked) {
	pk.mu.Lock()
	defer pk.mu.Unlock()
	delete(pk.streams, p)
	if len(pk.streams) == 0 && pk.empty != nil {
		close(pk.empty)
		pk.empty = nil
	}
}

// shutdown parks no more streams and waits until the parked ones have
// ended (Shutdown has ended their sessions); when ctx ends first, it closes
// their connections, which ends them at once. Then the writers exit.
func (pk *parker) shutdown(ctx context.Context) {
	pk.mu.Lock()
	pk.closed = true
	var empty chan struct{}
	if len(pk.streams) > 0 {
		empty = make(chan struct{})
		pk.empty = empty
	}
	pk.mu.Unlock()
	if empty != nil {
		select {
		case <-empty:
		case <-ctx.Done():
			pk.mu.Lock()
			for p := range pk.streams {
				if p.conn != nil { // nil: still being parked; it ends by itself (its session has)
					_ = p.conn.Close() // fails a blocked write; the stream ends
				}
			}
			pk.mu.Unlock()
			<-empty
		}
	}
	pk.writers.Stop()
	pk.writers.Wait()
	pk.wg.Wait()
}

// run hands p to an idle writer goroutine, or starts one.
func (pk *parker) run(p *parked) { pk.writers.Go(p.serveFn) }
