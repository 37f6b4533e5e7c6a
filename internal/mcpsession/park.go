package mcpsession

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpgate/mcpgate/internal/eventlog"
	"github.com/mcpgate/mcpgate/internal/sse"
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
	h        *Hub
	work     chan *parked  // hands a stream to an idle writer; unbuffered
	quit     chan struct{} // closed once every parked stream has ended at Shutdown
	quitOnce sync.Once
	wg       sync.WaitGroup // writers and readers

	mu      sync.Mutex           // guards the fields below
	streams map[*parked]struct{} // parked and not yet ended
	closed  bool                 // Shutdown is waiting: park no more
	empty   chan struct{}        // closed when streams empties; nil when nobody waits
}

func newParker(h *Hub) *parker {
	return &parker{h: h, work: make(chan *parked), quit: make(chan struct{}), streams: make(map[*parked]struct{})}
}

// Parked reports how many streams are parked.
func (h *Hub) Parked() int {
	h.parker.mu.Lock()
	defer h.parker.mu.Unlock()
	return len(h.parker.streams)
}

// park takes the stream's connection over and parks it; it reports false,
// with the stream untouched, when the stream cannot park.
//
//go:noinline
func (h *Hub) park(ctx context.Context, w *sse.Writer, ls *Live, stream string, after uint64, opts PumpOptions) bool {
	pk := opts.Park
	r := pk.Request
	n, ok := h.events.(eventlog.Notifier)
	if !ok || h.opts.DisableParking || r.ProtoMajor != 1 || r.Method != http.MethodGet || ctx.Err() != nil {
		return false
	}
	// Queued while it is set up: what stops it meanwhile is recorded and
	// served by its first round, started at the end.
	p := &parked{pk: h.parker, h: h, n: n, ls: ls, stream: stream, after: after, ids: opts.IDs,
		drain: pk.DrainOnEnd, done: pk.Done, w: w, state: parkQueued}
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
	p.conn, p.c = conn, pk.Conn
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
				_ = p.conn.Close() // fails a blocked write; the stream ends
			}
			pk.mu.Unlock()
			<-empty
		}
	}
	pk.quitOnce.Do(func() { close(pk.quit) })
	pk.wg.Wait()
}

// run hands p to an idle writer, or starts one.
func (pk *parker) run(p *parked) {
	select {
	case pk.work <- p:
		return
	default:
	}
	pk.wg.Add(1)
	go pk.writer(p)
}

// writer serves p, then whatever run hands it, until it has been idle for
// workerIdle (to twice that) or the hub has shut down.
func (pk *parker) writer(p *parked) {
	defer pk.wg.Done()
	p.serve()
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	busy := true
	for {
		select {
		case p := <-pk.work:
			p.serve()
			busy = true
		case <-idle.C:
			if !busy {
				return
			}
			busy = false
			idle.Reset(workerIdle) // not per stream served: see workerIdle
		case <-pk.quit:
			return
		}
	}
}

// parkState is where a parked stream is in its round.
type parkState uint8

const (
	parkIdle     parkState = iota // waiting for a wake
	parkQueued                    // handed to a writer
	parkRunning                   // a writer is serving it
	parkDeferred                  // news for a helper to write (Hub.Append)
	parkClosed                    // ended
)

// parked is a stream whose connection the hub took over.
type parked struct {
	pk     *parker
	h      *Hub
	n      eventlog.Notifier
	ls     *Live
	stream string
	ids    bool // events carry IDs
	drain  bool // Parking.DrainOnEnd
	done   func(reason string)
	w      *sse.Writer
	conn   net.Conn
	c      *Conn          // the stream's connection record
	stops  [2]func() bool // the AfterFuncs on the session's and the closing context

	// Owned by the writer serving the stream (one at a time).
	after uint64 // the last sequence written
	id    []byte // scratch for event IDs

	lastWrite atomic.Int64 // UnixNano of the last write, for heartbeats
	helpers   atomic.Int32 // Hub.Append calls under way, which write what they append

	mu       sync.Mutex // guards the fields below
	state    parkState
	again    bool        // woken while running: serve another round
	watching bool        // a Notify is registered and has not woken
	pingDue  bool        // the heartbeat interval passed in silence
	ending   string      // why the stream must end; "" while it goes on
	hb       *time.Timer // the heartbeat timer; nil without heartbeats
}

// Wake implements eventlog.Waker: the stream has news. While a Hub.Append
// is under way, the news is left for it to write.
func (p *parked) Wake() {
	p.mu.Lock()
	p.watching = false
	if p.state == parkIdle && p.helpers.Load() > 0 {
		p.state = parkDeferred
		p.mu.Unlock()
		return
	}
	run := p.kickLocked()
	p.mu.Unlock()
	if run {
		p.pk.run(p)
	}
}

// kickLocked marks that a round is due; it reports whether the caller
// must hand the stream to a writer.
func (p *parked) kickLocked() bool {
	switch p.state {
	case parkIdle, parkDeferred:
		p.state = parkQueued
		return true
	case parkRunning:
		p.again = true
	}
	return false
}

// stop ends the stream for reason (the first reason given wins).
func (p *parked) stop(reason string) {
	p.mu.Lock()
	if p.ending == "" && p.state != parkClosed {
		p.ending = reason
	}
	run := p.kickLocked()
	p.mu.Unlock()
	if run {
		p.pk.run(p)
	}
}

func (p *parked) takenOver()    { p.stop(ReasonTakenOver) }
func (p *parked) sessionEnded() { p.stop(ReasonSessionEnded) }
func (p *parked) shuttingDown() { p.stop(ReasonShuttingDown) }

// heartbeat is the heartbeat timer's function: a ping is due when nothing
// was written for an interval; otherwise the timer waits for the rest.
func (p *parked) heartbeat() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == parkClosed {
		return
	}
	iv := p.h.opts.Heartbeat
	if since := time.Duration(time.Now().UnixNano() - p.lastWrite.Load()); since < iv {
		p.hb.Reset(iv - since)
		return
	}
	p.pingDue = true
	p.hb.Reset(iv)
	if p.kickLocked() {
		p.pk.run(p) // never blocks: an idle writer or a new one
	}
}

// read waits for the client to close the connection (or to send anything,
// which a client of an event stream does not): then the stream ends. It
// returns when the connection closes.
func (p *parked) read() {
	defer p.pk.wg.Done()
	var b [1]byte
	if _, err := p.conn.Read(b[:]); err == nil {
		p.stop(ReasonClientData)
		return
	}
	p.stop(ReasonClientGone)
}

// serve runs rounds until the stream is idle or has ended: it writes what
// is new, a ping when one is due, and registers for the next wake.
func (p *parked) serve() {
	for {
		p.mu.Lock()
		if p.state == parkClosed {
			p.mu.Unlock()
			return
		}
		p.state = parkRunning
		p.again = false
		ending, ping := p.ending, p.pingDue
		p.pingDue = false
		p.mu.Unlock()
		if ending != "" {
			p.finish(ending)
			return
		}
		if reason := p.writeReady(); reason != "" {
			p.finish(reason)
			return
		}
		if ping {
			if err := p.h.ping(p.ls.ctx, p.w, p.ls); err != nil {
				p.finish(ReasonConnFailed)
				return
			}
			p.lastWrite.Store(time.Now().UnixNano())
		}
		p.mu.Lock()
		arm := !p.watching
		p.watching = true
		p.mu.Unlock()
		if arm {
			// Wake may run inside Notify (news already there): it then
			// finds the stream running and asks for another round.
			if err := p.n.Notify(p.ls.id, p.stream, p.after, p); err != nil {
				p.mu.Lock()
				p.watching = false
				p.mu.Unlock()
				p.finish(readFailure(err))
				return
			}
		}
		p.mu.Lock()
		if p.again || p.ending != "" || p.pingDue {
			p.mu.Unlock()
			continue
		}
		p.state = parkIdle
		p.mu.Unlock()
		return
	}
}

// writeReady writes every event the stream holds after p.after, a batch
// per flush. It returns why the stream ends, or "".
func (p *parked) writeReady() string {
	for {
		n, last, complete, err := p.h.write(context.Background(), p.w, p.ls, p.stream, p.after, PumpOptions{IDs: p.ids}, &p.id)
		p.after = last
		if n > 0 {
			p.lastWrite.Store(time.Now().UnixNano())
		}
		switch {
		case err != nil:
			return readFailure(err)
		case complete:
			return ReasonStreamComplete
		case n < readBatch:
			return ""
		}
	}
}

// readFailure is why a stream ends on err from the event log or the
// connection.
func readFailure(err error) string {
	if errors.Is(err, eventlog.ErrNotFound) {
		return ReasonSessionEnded // the session's streams are gone
	}
	return ReasonConnFailed
}

// finish ends the stream: no more wakes, heartbeats or AfterFuncs, what
// the session's calls answered if it must drain, the last chunk, the
// connection closed, and the transport told.
func (p *parked) finish(reason string) {
	p.mu.Lock()
	p.state = parkClosed
	watching := p.watching
	p.watching = false
	if p.hb != nil {
		p.hb.Stop()
	}
	p.mu.Unlock()
	if watching {
		p.n.Unnotify(p.ls.id, p.stream, p)
	}
	for _, stop := range p.stops {
		if stop != nil {
			stop()
		}
	}
	if p.c != nil {
		p.c.parked.Store(nil)
	}
	if p.drain && reason == ReasonSessionEnded && p.w.Err() == nil {
		p.after, _ = p.h.Drain(p.w, p.ls, p.stream, p.after)
	}
	_ = p.w.Close() // the reader returns
	if p.done != nil {
		p.done(reason)
	}
	p.pk.remove(p)
}

// Append appends an event to one of ls's streams, as the event log's
// Append does. When the stream is parked and idle, the caller then writes
// it to the client itself instead of waking a writer goroutine for it (a
// goroutine switch less per event): call it from a goroutine that may
// block for up to the write timeout, such as a worker of Go.
func (h *Hub) Append(ctx context.Context, ls *Live, stream string, data []byte) error {
	p := ls.parkedStream(stream)
	if p == nil {
		_, err := h.events.Append(ctx, ls.id, stream, data)
		return err
	}
	p.helpers.Add(1)
	_, err := h.events.Append(ctx, ls.id, stream, data)
	p.helpers.Add(-1)
	// Any Wake that deferred to a helper did so while this one was under
	// way (helpers > 0) and before this check (both hold p.mu): the news
	// is written here or by a later helper.
	p.mu.Lock()
	if p.state != parkDeferred {
		p.mu.Unlock()
		return err
	}
	p.state = parkQueued
	p.mu.Unlock()
	p.serve()
	return err
}
