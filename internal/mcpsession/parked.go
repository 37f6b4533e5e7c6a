package mcpsession

import (
	"context"
	"errors"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpgate/mcpgate/internal/eventlog"
	"github.com/mcpgate/mcpgate/internal/sse"
)

// A parked stream's rounds: woken by the event log, its heartbeat timer,
// its reader or whatever ends it, a stream is handed to a writer goroutine
// (or written by the goroutine that appended to it, Hub.Append), which
// writes what is new and registers for the next wake. One goroutine at a
// time serves a stream: the state below says which.

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
	pk      *parker
	h       *Hub
	n       eventlog.Notifier
	ls      *Live
	stream  string
	ids     bool // events carry IDs
	drain   bool // Parking.DrainOnEnd
	done    func(reason string)
	serveFn func() // serve, as a func value made once
	w       *sse.Writer
	conn    net.Conn       // set once hijacked, under the parker's mu
	c       *Conn          // the stream's connection record
	stops   [2]func() bool // the AfterFuncs on the session's and the closing context

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
// block for up to the write timeout, such as a worker of Go. Count the
// caller's call out (Live.EndCall) before: when other calls of ls are
// still in flight, the caller yields once before it writes, so that
// responses ready at the same moment leave in one write.
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
	if ls.calls.Load() > 0 {
		// Other calls of the session are in flight, and their responses
		// may be ready to run already (an upstream answers a batch of
		// calls at once, and each response wakes its call's goroutine).
		// Let them append first, so that one write carries them all: fewer
		// system calls, and fewer TCP segments for both ends to process
		// (the client acknowledges each one). A session with one call in
		// flight, the usual case, writes at once.
		runtime.Gosched()
	}
	p.serve()
	return err
}
