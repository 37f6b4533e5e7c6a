package mcpsession

import (
	"context"
	"errors"

	"github.com/mcpgate/mcpgate/internal/eventlog"
	"github.com/mcpgate/mcpgate/internal/sse"
)

// readBatch is the most events written between two flushes.
const readBatch = 64

// PumpOptions says how Pump frames a stream.
type PumpOptions struct {
	// IDs gives every event an "id: <stream>.<seq>" field (Streamable HTTP,
	// [T §Resumability] 1). Zero means events without IDs (2024-11-05).
	IDs bool
	// Park, if set, lets Pump park the stream once it has written what the
	// stream holds (see Parking): it then returns ErrParked. Nil keeps the
	// stream on the calling goroutine.
	Park *Parking
}

// Pump writes the stream's events after seq to w as "message" events until
// the stream is complete (the responses are out: the SSE stream ends,
// [T §Sending Messages] 6), the connection fails, or ctx ends. Silence
// longer than the heartbeat interval gets a ": ping" comment, and a
// client that is listening counts as using its session (the session is
// touched). What it writes is counted in ls's stats. It returns the last
// sequence written.
func (h *Hub) Pump(ctx context.Context, w *sse.Writer, ls *Live, stream string, after uint64, opts PumpOptions) (uint64, error) {
	p := h.newPump(ctx, w, ls, stream, after, opts)
	defer p.release()
	for {
		n, complete, err := p.write()
		if err != nil || complete {
			return p.after, err
		}
		if n == readBatch {
			continue
		}
		if p.opts.Park != nil && p.park() {
			return p.after, ErrParked
		}
		// The wait, in this frame rather than a call's: see pump.
		if p.hb == nil {
			err = h.events.Wait(ctx, ls.id, stream, p.after)
		} else {
			p.hb.arm()
			err = h.events.Wait(p.hb, ls.id, stream, p.after)
			p.hb.disarm()
			if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
				// Silence for a heartbeat interval: a ping.
				err = h.ping(ctx, w, ls)
			}
		}
		if err != nil {
			return p.after, err
		}
	}
}

//go:noinline
func (h *Hub) newPump(ctx context.Context, w *sse.Writer, ls *Live, stream string, after uint64, opts PumpOptions) *pump {
	p := &pump{h: h, ctx: ctx, w: w, ls: ls, stream: stream, after: after, opts: opts}
	if h.opts.Heartbeat >= 0 {
		p.hb = newHeartbeatContext(ctx, h.opts.Heartbeat)
	}
	return p
}

func (p *pump) release() {
	if p.hb != nil {
		p.hb.release()
	}
}

// pump is the state of one Pump. The loop keeps it on the heap and its own
// stack frame small: an idle stream parks its goroutine in the loop for as
// long as it lasts, and a shallow stack lets the runtime shrink it.
type pump struct {
	h      *Hub
	ctx    context.Context
	w      *sse.Writer
	ls     *Live
	stream string
	after  uint64 // the last sequence written
	opts   PumpOptions
	id     []byte            // scratch for event IDs
	hb     *heartbeatContext // nil: no heartbeats
}

// park tries once to park the stream (Hub.park).
func (p *pump) park() bool {
	parked := p.h.park(p.ctx, p.w, p.ls, p.stream, p.after, p.opts)
	p.opts.Park = nil // once: a stream that cannot park now never will
	return parked
}

// write writes one batch (Hub.write).
func (p *pump) write() (n int, complete bool, err error) {
	n, p.after, complete, err = p.h.write(p.ctx, p.w, p.ls, p.stream, p.after, p.opts, &p.id)
	return n, complete, err
}

// ping writes a heartbeat. It is out of line, like everything but the
// wait, so that Pump's stack frame, which an idle stream keeps, stays small.
//
//go:noinline
func (h *Hub) ping(ctx context.Context, w *sse.Writer, ls *Live) error {
	before := w.Written()
	w.Comment("ping")
	err := w.Flush()
	ls.CountSent(0, w.Written()-before)
	if err != nil {
		return err
	}
	// A client listening is a client using its session.
	_ = h.sessions.Touch(ctx, ls.id)
	return nil
}

// Drain writes what the stream holds after seq, without waiting for more.
// A 2024-11-05 stream calls it when its session ends under it (Shutdown), so
// that the responses of calls that finished reach the client before the
// stream closes.
func (h *Hub) Drain(w *sse.Writer, ls *Live, stream string, after uint64) (uint64, error) {
	var id []byte
	for {
		n, last, complete, err := h.write(context.Background(), w, ls, stream, after, PumpOptions{}, &id)
		after = last
		if err != nil || complete || n < readBatch {
			if errors.Is(err, eventlog.ErrNotFound) {
				err = nil // the session's streams are gone: nothing to drain
			}
			return after, err
		}
	}
}

// write reads and writes one batch of events after seq and flushes them.
// It returns how many it wrote, the last sequence written and whether the
// stream is complete.
func (h *Hub) write(ctx context.Context, w *sse.Writer, ls *Live, stream string, after uint64, opts PumpOptions, id *[]byte) (n int, last uint64, complete bool, err error) {
	page, err := h.events.Read(ctx, ls.id, stream, after, readBatch)
	if err != nil {
		return 0, after, false, err
	}
	for _, ev := range page.Events {
		var eid []byte
		if opts.IDs {
			*id = eventlog.AppendEventID((*id)[:0], stream, ev.Seq)
			eid = *id
		}
		w.Event(eid, "message", ev.Data)
		after = ev.Seq
	}
	if len(page.Events) > 0 {
		before := w.Written()
		if err := w.Flush(); err != nil {
			ls.CountSent(0, w.Written()-before)
			return len(page.Events), after, false, err
		}
		ls.CountSent(len(page.Events), w.Written()-before)
	}
	return len(page.Events), after, page.Complete, nil
}
